/**
 * MQTT credentials of the simulated APs, from the command line or a credentials file:
 *
 *   --username '{apId}' --password secret        the same for all APs ({apId} is replaced)
 *   --credential AP-01=ap01:s3cret                one AP (repeatable; wins over the above)
 *   --credentials creds.json                      { "AP-01": { "username": "...", "password": "..." }, ... }
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { EslError } from '#contracts';

export const CredentialsFileSchema = z.record(z.string(), z.object({ username: z.string(), password: z.string() }));
export type CredentialsFile = z.infer<typeof CredentialsFileSchema>;

export interface Credential {
  username: string;
  password: string;
}

/** Parses "AP-01=user:password" (the password may contain ':'). */
export function parseCredentialArg(arg: string): [string, Credential] {
  const m = /^([^=]+)=([^:]*):(.*)$/.exec(arg);
  if (m === null) throw new EslError('CREDENTIAL_BAD_SYNTAX', `--credential ${arg}: expected AP-ID=USERNAME:PASSWORD`);
  return [m[1]!, { username: m[2]!, password: m[3]! }];
}

export function readCredentialsFile(path: string): CredentialsFile {
  return CredentialsFileSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
}

/** The credential of every AP: per-AP entries first, then the file, then the shared template. */
export function resolveCredentials(
  apIds: readonly string[],
  sources: { perAp?: readonly string[]; file?: CredentialsFile; username?: string; password?: string },
): Map<string, Credential> {
  const perAp = new Map((sources.perAp ?? []).map(parseCredentialArg));
  const out = new Map<string, Credential>();
  for (const apId of apIds) {
    const c =
      perAp.get(apId) ??
      sources.file?.[apId] ??
      (sources.username !== undefined
        ? { username: sources.username.replaceAll('{apId}', apId), password: (sources.password ?? '').replaceAll('{apId}', apId) }
        : undefined);
    if (c === undefined) throw new EslError('CREDENTIAL_MISSING', `no MQTT credentials for AP ${apId}`);
    out.set(apId, c);
  }
  return out;
}
