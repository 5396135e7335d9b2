/** Peer credentials of a control connection, from the socket's fd (SO_PEERCRED through the addon). */
import type { Socket } from 'node:net';
import type { Peer } from '../control/server.js';
import { peerCredentials } from '../native/index.js';

export function socketPeer(socket: Socket): Peer {
  // net.Socket exposes no public fd; its pipe handle carries it on every Unix platform Node supports.
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('control connection has no file descriptor');
  const { pid, uid } = peerCredentials(fd);
  return { pid, uid };
}
