import { createPrivateKey, randomBytes, webcrypto, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  ExtendedKeyUsage,
  ExtendedKeyUsageExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  PemConverter,
  SubjectKeyIdentifierExtension,
  X509CertificateGenerator,
  X509CrlGenerator,
  type Extension,
} from './x509.ts';
import { SandboxError } from '../errors/index.ts';
import { Certificate, normalizeSerial, parseCertificates } from './certificate.ts';
import { grantExtensions, type CertificateGrants } from './grant-extensions.ts';
import { crlNumberExtension, highestCrlNumber } from './crl-file.ts';
import { CrlStore } from './crl-store.ts';

export type KeyAlgorithm = 'rsa' | 'ecdsa';
export type AuthorityLevel = 'root' | 'intermediate';

const MS_PER_DAY = 86_400_000;
const SERIAL_BYTES = 16;
const PRIVATE_KEY_MODE = 0o600;
const KEY_PARAMS: Record<KeyAlgorithm, webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams> = {
  rsa: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
  ecdsa: { name: 'ECDSA', namedCurve: 'P-256' },
};

/** Files of a certificate authority directory made by `ca init`. */
export function authorityFiles(dir: string, level: AuthorityLevel) {
  return {
    key: path.join(dir, `${level}.key.pem`),
    cert: path.join(dir, `${level}.pem`),
    crl: path.join(dir, `${level}.crl.pem`),
  };
}

interface Issuer {
  cert: Certificate;
  key: webcrypto.CryptoKey;
  files: ReturnType<typeof authorityFiles>;
}

/** `ca init`: a root (and optionally an intermediate with pathLen 0), each with an empty CRL. */
export async function initAuthority(options: {
  dir: string;
  name: string;
  intermediate: boolean;
  algorithm: KeyAlgorithm;
  days: number;
  crlDays: number;
}) {
  mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  const rootFiles = authorityFiles(options.dir, 'root');
  refuseOverwrite(rootFiles.key);
  const rootKeys = await generateKeys(options.algorithm);
  const root = await X509CertificateGenerator.createSelfSigned({
    serialNumber: newSerial(),
    name: `CN=${options.name} Root CA`,
    ...validity(options.days),
    keys: rootKeys,
    signingAlgorithm: signingAlgorithm(rootKeys.privateKey),
    extensions: await caExtensions(rootKeys.publicKey, undefined, undefined),
  });
  const rootCert = new Certificate(Buffer.from(root.rawData));
  await writeKey(rootFiles.key, rootKeys.privateKey);
  writeFileSync(rootFiles.cert, rootCert.toPem());
  const rootIssuer: Issuer = { cert: rootCert, key: rootKeys.privateKey, files: rootFiles };
  await writeCrl(rootIssuer, [], options.crlDays);
  const made = { root: rootFiles.cert, rootCrl: rootFiles.crl, intermediate: undefined as string | undefined };
  if (options.intermediate) {
    const files = authorityFiles(options.dir, 'intermediate');
    const keys = await generateKeys(options.algorithm);
    const created = await X509CertificateGenerator.create({
      serialNumber: newSerial(),
      subject: `CN=${options.name} Intermediate CA`,
      issuer: rootCert.subject,
      ...validity(options.days),
      publicKey: keys.publicKey,
      signingKey: rootKeys.privateKey,
      signingAlgorithm: signingAlgorithm(rootKeys.privateKey),
      extensions: await caExtensions(keys.publicKey, rootCert, 0),
    });
    const cert = new Certificate(Buffer.from(created.rawData));
    await writeKey(files.key, keys.privateKey);
    writeFileSync(files.cert, cert.toPem());
    await writeCrl({ cert, key: keys.privateKey, files }, [], options.crlDays);
    made.intermediate = files.cert;
  }
  return made;
}

/**
 * `cert issue`: a developer certificate with the codeSigning usage, bound to plugin ids and the
 * permissions it may grant. Writes `developer.key.pem` (0600) and `developer.pem` (the chain up to,
 * not including, the root). Issued by the intermediate when the authority has one.
 */
export async function issueDeveloperCertificate(options: {
  caDir: string;
  issuer?: AuthorityLevel;
  outDir: string;
  name: string;
  grants: CertificateGrants;
  algorithm: KeyAlgorithm;
  days: number;
}) {
  const issuer = await loadIssuer(options.caDir, options.issuer);
  mkdirSync(options.outDir, { recursive: true, mode: 0o700 });
  const keyFile = path.join(options.outDir, 'developer.key.pem');
  const certFile = path.join(options.outDir, 'developer.pem');
  refuseOverwrite(keyFile);
  const keys = await generateKeys(options.algorithm);
  const created = await X509CertificateGenerator.create({
    serialNumber: newSerial(),
    subject: `CN=${options.name}`,
    issuer: issuer.cert.subject,
    ...validity(options.days),
    publicKey: keys.publicKey,
    signingKey: issuer.key,
    signingAlgorithm: signingAlgorithm(issuer.key),
    extensions: [
      new BasicConstraintsExtension(false, undefined, true),
      new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true),
      new ExtendedKeyUsageExtension([ExtendedKeyUsage.codeSigning], false),
      await SubjectKeyIdentifierExtension.create(keys.publicKey),
      await AuthorityKeyIdentifierExtension.create(issuer.cert.parsed),
      ...grantExtensions(options.grants),
    ],
  });
  const leaf = new Certificate(Buffer.from(created.rawData));
  await writeKey(keyFile, keys.privateKey);
  const chain = [leaf, ...(issuer.files.cert.endsWith('intermediate.pem') ? [issuer.cert] : [])];
  writeFileSync(certFile, chain.map((c) => c.toPem()).join('\n'));
  return { keyFile, certFile, serial: leaf.serial, fingerprint: leaf.fingerprint, subject: leaf.subject };
}

/** `cert revoke`: adds `serial` to the issuer's CRL and signs it again. */
export async function revokeCertificate(options: {
  caDir: string;
  serial: string;
  issuer?: AuthorityLevel;
  crlDays: number;
}) {
  const issuer = await loadIssuer(options.caDir, options.issuer);
  const serials = new Set([...CrlStore.serialsIn(issuer.files.crl), normalizeSerial(options.serial)]);
  await writeCrl(issuer, [...serials], options.crlDays);
  return { crl: issuer.files.crl, revoked: [...serials] };
}

/** `crl update`: signs every CRL of the authority again with a fresh nextUpdate. */
export async function updateCrls(options: { caDir: string; crlDays: number }) {
  const updated: string[] = [];
  for (const level of ['root', 'intermediate'] as const) {
    if (!existsSync(authorityFiles(options.caDir, level).key)) continue;
    const issuer = await loadIssuer(options.caDir, level);
    await writeCrl(issuer, CrlStore.serialsIn(issuer.files.crl), options.crlDays);
    updated.push(issuer.files.crl);
  }
  return updated;
}

/** Reads a private key file for signing bundles. */
export function readPrivateKey(file: string): KeyObject {
  try {
    return createPrivateKey(readFileSync(file));
  } catch (err) {
    throw new SandboxError('INVALID_REQUEST', `${file} is not a readable private key: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

async function loadIssuer(caDir: string, level?: AuthorityLevel): Promise<Issuer> {
  const chosen = level ?? (existsSync(authorityFiles(caDir, 'intermediate').key) ? 'intermediate' : 'root');
  const files = authorityFiles(caDir, chosen);
  if (!existsSync(files.key)) {
    throw new SandboxError(
      'NOT_FOUND',
      `${files.key} does not exist; create the authority with \`classtop-sandbox ca init --dir ${caDir}\``,
    );
  }
  const cert = parseCertificates(readFileSync(files.cert), files.cert)[0] as Certificate;
  return { cert, key: await importSigningKey(readPrivateKey(files.key)), files };
}

/** Signs the issuer's CRL again, its cRLNumber one above the file's, so relying parties rank it newest. */
async function writeCrl(issuer: Issuer, serials: string[], crlDays: number): Promise<void> {
  const now = new Date();
  const number = highestCrlNumber(issuer.files.crl) + 1n;
  const crl = await X509CrlGenerator.create({
    extensions: [crlNumberExtension(number)],
    issuer: issuer.cert.subject,
    thisUpdate: now,
    nextUpdate: new Date(now.getTime() + crlDays * MS_PER_DAY),
    entries: serials.map((serialNumber) => ({ serialNumber, revocationDate: now })),
    signingKey: issuer.key,
    signingAlgorithm: signingAlgorithm(issuer.key),
  });
  writeFileSync(issuer.files.crl, PemConverter.encode(crl.rawData, 'X509 CRL'));
}

async function caExtensions(
  publicKey: webcrypto.CryptoKey,
  issuer: Certificate | undefined,
  pathLength: number | undefined,
): Promise<Extension[]> {
  return [
    new BasicConstraintsExtension(true, pathLength, true),
    new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true),
    await SubjectKeyIdentifierExtension.create(publicKey),
    ...(issuer ? [await AuthorityKeyIdentifierExtension.create(issuer.parsed)] : []),
  ];
}

function generateKeys(algorithm: KeyAlgorithm): Promise<webcrypto.CryptoKeyPair> {
  return webcrypto.subtle.generateKey(KEY_PARAMS[algorithm], true, [
    'sign',
    'verify',
  ]) as Promise<webcrypto.CryptoKeyPair>;
}

async function importSigningKey(key: KeyObject): Promise<webcrypto.CryptoKey> {
  const params = key.asymmetricKeyType === 'ec' ? KEY_PARAMS.ecdsa : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  return webcrypto.subtle.importKey('pkcs8', key.export({ type: 'pkcs8', format: 'der' }), params, false, ['sign']);
}

function signingAlgorithm(key: webcrypto.CryptoKey): webcrypto.Algorithm | webcrypto.EcdsaParams {
  return key.algorithm.name === 'ECDSA'
    ? { name: 'ECDSA', hash: 'SHA-256' }
    : ({ name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as webcrypto.Algorithm);
}

async function writeKey(file: string, key: webcrypto.CryptoKey): Promise<void> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  writeFileSync(file, PemConverter.encode(der, 'PRIVATE KEY'), { mode: PRIVATE_KEY_MODE, flag: 'wx' });
}

function refuseOverwrite(file: string): void {
  if (existsSync(file))
    throw new SandboxError('ALREADY_EXISTS', `${file} exists; refusing to overwrite a key (choose another directory)`);
}

function validity(days: number): { notBefore: Date; notAfter: Date } {
  const notBefore = new Date(Date.now() - 60_000);
  return { notBefore, notAfter: new Date(notBefore.getTime() + days * MS_PER_DAY) };
}

function newSerial(): string {
  const bytes = randomBytes(SERIAL_BYTES);
  bytes[0] = (bytes[0] ?? 0) & 0x7f; // positive
  return bytes.toString('hex');
}
