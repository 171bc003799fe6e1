// A monitor's expected_codes (SPEC §1), Cloudflare's syntax: exact codes and status
// classes, comma-separated ("200", "2xx", "200,204", "2xx,3xx"). The schema has
// already validated the shape; this only judges a status against it.

/** "200", "2xx", "200,204", "2xx,3xx" (already validated by the schema) */
export function matchesExpectedCodes(status: number, expected: string): boolean {
  return expected.split(',').some((entry) => {
    const code = entry.trim().toLowerCase();
    if (/^[1-5]xx$/.test(code)) return status >= 100 && status <= 599 && Math.floor(status / 100) === Number(code[0]);
    return code !== '' && Number(code) === status;
  });
}
