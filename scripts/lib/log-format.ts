const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/** Fields every pino line carries, left out of the readable form. */
const OMITTED = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'err']);

/**
 * A pino JSON line as `LEVEL msg {other fields}` (plus the error stack on following lines);
 * anything that is not a pino line comes back unchanged.
 */
export function formatLogLine(line: string): string {
  if (!line.startsWith('{')) return line;
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return line;
  }
  if (typeof record !== 'object' || record === null || !('level' in record)) return line;
  const fields = record as Record<string, unknown>;
  const level =
    typeof fields.level === 'number'
      ? (LEVEL_NAMES[fields.level] ?? String(fields.level))
      : String(fields.level);
  const rest = Object.fromEntries(Object.entries(fields).filter(([key]) => !OMITTED.has(key)));
  let text = `${level.toUpperCase().padEnd(5)} ${typeof fields.msg === 'string' ? fields.msg : ''}`;
  if (Object.keys(rest).length > 0) text += ` ${JSON.stringify(rest)}`;
  const err = fields.err as { stack?: unknown; message?: unknown } | undefined;
  if (typeof err?.stack === 'string') text += `\n${err.stack}`;
  else if (typeof err?.message === 'string') text += ` (${err.message})`;
  return text;
}

/** Prefixes every line of `text` with `[name]`, names padded to one width. */
export function prefixLines(name: string, text: string, width = 9): string {
  const prefix = `[${name}]`.padEnd(width);
  return text
    .split('\n')
    .map((line) => `${prefix} ${line}`)
    .join('\n');
}
