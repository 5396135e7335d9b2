/** Values that break naive .env writers: spaces, both quote kinds, #, $, backslashes, newlines, non-ASCII. */
export const HARD_VALUES: Readonly<Record<string, string>> = {
  SPACES: '  two  spaces  ',
  DQUOTE: 'say "hi"',
  SQUOTE: "it's",
  HASH: 'a #not a comment#',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${...} is what this value tests
  DOLLAR: '$HOME ${USER} $',
  BACKSLASH: 'C:\\path\\n\\\\x',
  NEWLINES: 'line1\nline2\n',
  UNICODE: 'héllo ✓ 日本 🙂',
  BOTH: "it's `tick`",
  EQUALS: 'a=b==',
};
