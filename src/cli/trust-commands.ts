import { parseArgs } from 'node:util';
import { SandboxError } from '../errors/index.ts';
import {
  initAuthority,
  issueDeveloperCertificate,
  packPlugin,
  revokeCertificate,
  signPlugin,
  updateCrls,
  verifySignatureOffline,
  type KeyAlgorithm,
} from '../trust/index.ts';

const DEFAULT_CA_DAYS = 3_650;
const DEFAULT_CERT_DAYS = 365;
const DEFAULT_CRL_DAYS = 30;

function print(lines: string[]): void {
  process.stdout.write(`${lines.join('\n')}\n`);
}

function required(value: string | undefined, flag: string, command: string): string {
  if (!value) throw new SandboxError('INVALID_REQUEST', `${command} needs ${flag}`);
  return value;
}

function positiveInt(value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new SandboxError('INVALID_REQUEST', `${flag} must be a whole number of days above 0`);
  return n;
}

function algorithm(value: string | undefined): KeyAlgorithm {
  if (value === undefined || value === 'ecdsa' || value === 'rsa') return value ?? 'ecdsa';
  throw new SandboxError('INVALID_REQUEST', `--algorithm must be ecdsa (P-256) or rsa (2048-bit)`);
}

function list(values: string[] | undefined): string[] {
  return (values ?? [])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
}

/** `ca init --dir DIR [--name NAME] [--intermediate] [--algorithm ecdsa|rsa] [--days N] [--crl-days N]` */
export async function caInit(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      dir: { type: 'string' },
      name: { type: 'string', default: 'ClassTop Plugins' },
      intermediate: { type: 'boolean', default: false },
      algorithm: { type: 'string' },
      days: { type: 'string' },
      'crl-days': { type: 'string' },
    },
  });
  const made = await initAuthority({
    dir: required(values.dir, '--dir', 'ca init'),
    name: values.name,
    intermediate: values.intermediate,
    algorithm: algorithm(values.algorithm),
    days: positiveInt(values.days, DEFAULT_CA_DAYS, '--days'),
    crlDays: positiveInt(values['crl-days'], DEFAULT_CRL_DAYS, '--crl-days'),
  });
  print([
    `root certificate: ${made.root} (give it to tenants as trust.roots)`,
    `root CRL: ${made.rootCrl}`,
    ...(made.intermediate ? [`intermediate certificate: ${made.intermediate} (issues developer certificates)`] : []),
    'private keys: *.key.pem, mode 0600; keep them offline',
  ]);
}

/** `cert issue --ca DIR --out DIR --name NAME --plugin-id ID[,ID] [--permissions …] [--privileged …]` */
export async function certIssue(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      ca: { type: 'string' },
      issuer: { type: 'string' },
      out: { type: 'string' },
      name: { type: 'string' },
      'plugin-id': { type: 'string', multiple: true },
      permissions: { type: 'string', multiple: true },
      privileged: { type: 'string', multiple: true },
      algorithm: { type: 'string' },
      days: { type: 'string' },
    },
  });
  const pluginIds = list(values['plugin-id']);
  if (pluginIds.length === 0)
    throw new SandboxError(
      'INVALID_REQUEST',
      'cert issue needs --plugin-id (an id, or a prefix such as com.example.*)',
    );
  if (values.issuer !== undefined && values.issuer !== 'root' && values.issuer !== 'intermediate') {
    throw new SandboxError('INVALID_REQUEST', '--issuer must be root or intermediate');
  }
  const issued = await issueDeveloperCertificate({
    caDir: required(values.ca, '--ca', 'cert issue'),
    issuer: values.issuer,
    outDir: required(values.out, '--out', 'cert issue'),
    name: required(values.name, '--name', 'cert issue'),
    grants: { pluginIds, permissions: list(values.permissions), privilegedPermissions: list(values.privileged) },
    algorithm: algorithm(values.algorithm),
    days: positiveInt(values.days, DEFAULT_CERT_DAYS, '--days'),
  });
  print([
    `developer certificate: ${issued.certFile} (${issued.subject}, serial ${issued.serial})`,
    `fingerprint: ${issued.fingerprint}`,
    `private key: ${issued.keyFile} (mode 0600)`,
  ]);
}

/** `cert revoke --ca DIR --serial HEX [--issuer root|intermediate] [--crl-days N]` */
export async function certRevoke(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      ca: { type: 'string' },
      serial: { type: 'string' },
      issuer: { type: 'string' },
      'crl-days': { type: 'string' },
    },
  });
  const serial = required(values.serial, '--serial', 'cert revoke');
  if (!/^[0-9a-fA-F]+$/.test(serial))
    throw new SandboxError('INVALID_REQUEST', '--serial must be hexadecimal, as `cert issue` printed it');
  const result = await revokeCertificate({
    caDir: required(values.ca, '--ca', 'cert revoke'),
    serial,
    issuer: values.issuer === 'root' || values.issuer === 'intermediate' ? values.issuer : undefined,
    crlDays: positiveInt(values['crl-days'], DEFAULT_CRL_DAYS, '--crl-days'),
  });
  print([`revoked ${serial}; ${result.crl} re-signed, listing ${result.revoked.length} serial(s)`]);
}

/** `crl update --ca DIR [--crl-days N]`: re-sign the CRLs before their nextUpdate. */
export async function crlUpdate(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { ca: { type: 'string' }, 'crl-days': { type: 'string' } } });
  const updated = await updateCrls({
    caDir: required(values.ca, '--ca', 'crl update'),
    crlDays: positiveInt(values['crl-days'], DEFAULT_CRL_DAYS, '--crl-days'),
  });
  print(updated.map((f) => `re-signed ${f}`));
}

/** `sign DIR --key KEY --cert CERT` */
export async function sign(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { key: { type: 'string' }, cert: { type: 'string' } },
  });
  const dir = required(positionals[0], 'a plugin directory', 'sign');
  const result = signPlugin(dir, required(values.key, '--key', 'sign'), required(values.cert, '--cert', 'sign'));
  print([
    `signed ${result.plugin}: ${result.files} files, by ${result.signer}`,
    `certificate.fingerprint in plugin.yaml: ${result.fingerprint}`,
  ]);
}

/** `verify-signature DIR [--trust ROOT.pem]… [--crl FILE]…` */
export async function verifySignature(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { trust: { type: 'string', multiple: true }, crl: { type: 'string', multiple: true } },
  });
  const dir = required(positionals[0], 'a plugin directory', 'verify-signature');
  print(await verifySignatureOffline(dir, values.trust ?? [], values.crl ?? []));
}

/** `pack DIR --out FILE.ctp` */
export async function pack(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { out: { type: 'string' } } });
  const dir = required(positionals[0], 'a plugin directory', 'pack');
  const result = await packPlugin(dir, required(values.out, '--out', 'pack'));
  print([`packed ${result.files} files into ${result.file}`]);
}
