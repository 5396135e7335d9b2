/** Standard padded base64, what Buffer's 'base64' writes; Node's decoder would skip anything else silently. */
export function isBase64(text: string): boolean {
  if (text.length % 4 !== 0) return false;
  let padding = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x3d /* = */) {
      padding++;
    } else if (
      padding > 0 ||
      !((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2f)
    ) {
      return false;
    }
  }
  return padding <= 2;
}
