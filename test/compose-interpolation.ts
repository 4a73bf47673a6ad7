/**
 * Compose's variable interpolation (compose-spec "Interpolation"), enough to check what
 * docker-compose.yml resolves to without a Docker engine: `$$`, `$VAR`, `${VAR}`,
 * `${VAR:-default}` / `${VAR-default}`, `${VAR:?error}` / `${VAR?error}`, `${VAR:+alt}` / `${VAR+alt}`.
 * The colon forms treat an empty value as unset, as compose does.
 */
export class ComposeInterpolationError extends Error {
  override readonly name = 'ComposeInterpolationError';
}

const TOKEN = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

export function interpolateCompose(text: string, env: Record<string, string | undefined>): string {
  return text.replace(TOKEN, (whole, name: string | undefined, op: string | undefined, arg = '', bare) => {
    if (whole === '$$') return '$';
    const key = (name ?? bare) as string;
    const value = env[key];
    const colon = op?.startsWith(':') ?? false;
    const unset = value === undefined || (colon && value === '');
    switch (op?.replace(':', '')) {
      case '-':
        return unset ? arg : (value as string);
      case '?':
        if (unset) throw new ComposeInterpolationError(`required variable ${key} is missing a value: ${arg}`);
        return value as string;
      case '+':
        return unset ? '' : arg;
      default:
        return value ?? '';
    }
  });
}
