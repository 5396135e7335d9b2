// The README's chart: open-to-EOF latency per .env size, p50 bars with a p99 whisker on a log scale, for the C
// floor, envmount with policy `any`, envmount with a rule (reader identified), and a plain file. Plain SVG.
const KINDS = [
  ['floor', 'C floor (rendezvous, rotate, write)', '#8c8c8c'],
  ['any', 'envmount, policy any', '#2f6fdf'],
  ['identified', 'envmount, a rule (reader identified)', '#d9822b'],
  ['plain', 'plain file', '#3aa35b'],
];
const W = 760;
const LEFT = 90;
const RIGHT = 20;
const BAR = 14;
const MIN_US = 5;
const MAX_US = 50000;

/** The x of a time on the log axis, clamped to the plot (room is left for labels), to one decimal. */
function x(us) {
  const clamped = Math.min(Math.max(us, MIN_US), MAX_US);
  const at = (Math.log10(clamped) - Math.log10(MIN_US)) / (Math.log10(MAX_US) - Math.log10(MIN_US));
  return +(LEFT + at * (W - LEFT - RIGHT - 150)).toFixed(1);
}
const esc = (s) => String(s).replaceAll('&', '&amp;').replaceAll('<', '&lt;');

export function chart(latency, machine) {
  const sizes = Object.keys(latency);
  const groupH = KINDS.length * (BAR + 4) + 18;
  const top = 48;
  const H = top + sizes.length * groupH + 60;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="11">`,
    `<title>envmount serve latency by .env size: C floor, policy any, a rule, plain file</title>`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${LEFT}" y="18" font-size="13" font-weight="bold">Read of a mounted .env, open to EOF (p50 bar, p99 whisker; log scale)</text>`,
    `<text x="${LEFT}" y="34" fill="#555">${esc(machine)}</text>`,
  ];
  for (const us of [10, 100, 1000, 10000]) {
    out.push(`<line x1="${x(us)}" y1="${top - 6}" x2="${x(us)}" y2="${H - 52}" stroke="#ddd"/>`);
    out.push(
      `<text x="${x(us)}" y="${H - 40}" text-anchor="middle" fill="#555">${us >= 1000 ? `${us / 1000} ms` : `${us} µs`}</text>`,
    );
  }
  sizes.forEach((size, g) => {
    const y0 = top + g * groupH;
    out.push(
      `<text x="${LEFT - 8}" y="${y0 + groupH / 2 - 4}" text-anchor="end" font-weight="bold">${esc(size)}</text>`,
    );
    KINDS.forEach(([key, , color], k) => {
      const r = latency[size][key];
      if (!r) return;
      const y = y0 + k * (BAR + 4);
      out.push(
        `<rect x="${LEFT}" y="${y}" width="${(x(r.p50_us) - LEFT).toFixed(1)}" height="${BAR}" fill="${color}"/>`,
      );
      out.push(
        `<line x1="${x(r.p50_us)}" y1="${y + BAR / 2}" x2="${x(r.p99_us)}" y2="${y + BAR / 2}" stroke="${color}" stroke-width="2"/>`,
      );
      out.push(
        `<line x1="${x(r.p99_us)}" y1="${y + 2}" x2="${x(r.p99_us)}" y2="${y + BAR - 2}" stroke="${color}" stroke-width="2"/>`,
      );
      const ratio = r.vs_floor && key !== 'plain' ? ` (${r.vs_floor}x floor)` : '';
      out.push(`<text x="${x(r.p99_us) + 5}" y="${y + BAR - 3}" fill="#333">${r.p50_us} µs${ratio}</text>`);
    });
  });
  KINDS.forEach(([, label, color], k) => {
    const lx = LEFT + (k % 2) * 330;
    const ly = H - 22 + Math.floor(k / 2) * 14 - 6;
    out.push(`<rect x="${lx}" y="${ly - 9}" width="10" height="10" fill="${color}"/>`);
    out.push(`<text x="${lx + 14}" y="${ly}">${esc(label)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
