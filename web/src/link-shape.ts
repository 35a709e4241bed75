/**
 * The browser's first check of a link, before the server's full one: an http(s) URL with a dotted
 * host and no credentials. Returns what is wrong, or null.
 */
export function linkProblem(text: string): string | null {
  const value = text.trim();
  if (!value) return 'enter a link';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'this is not a link; it should start with https://';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return 'only http and https links can be collected';
  if (url.username || url.password) return 'links must not carry a user name or password';
  if (!url.hostname.includes('.') && url.hostname !== 'localhost' && !url.hostname.startsWith('['))
    return 'the address needs a full host name, like example.com';
  return null;
}
