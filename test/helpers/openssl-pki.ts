import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Certificates and CRLs made with the openssl command-line tool: an implementation independent of
 * the project's, so that the verifier is checked against it. Each CA has its own `openssl ca`
 * directory (index, serial, crlnumber).
 */
export type KeyKind = 'ec' | 'rsa2048' | 'rsa1024' | 'rsa-e3';

export interface OpensslCa {
  name: string;
  dir: string;
  key: string;
  cert: string;
  config: string;
}

const KEY_OPTIONS: Record<KeyKind, string[]> = {
  ec: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  rsa2048: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
  rsa1024: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024'],
  'rsa-e3': ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-pkeyopt', 'rsa_keygen_pubexp:3'],
};

export const CA_EXTENSIONS = ['basicConstraints = critical,CA:TRUE', 'keyUsage = critical,keyCertSign,cRLSign'];

/** Extensions of a developer certificate granting `pluginIds` and `permissions`. */
export function developerExtensions(pluginIds: string[], permissions: string[], privileged: string[] = []): string[] {
  const uris = [
    ...pluginIds.map((id) => `URI:urn:classtop:plugin-id:${id}`),
    ...permissions.map((p) => `URI:urn:classtop:permission:${p}`),
    ...privileged.map((p) => `URI:urn:classtop:privileged-permission:${p}`),
  ];
  return [
    'basicConstraints = critical,CA:FALSE',
    'keyUsage = critical,digitalSignature',
    'extendedKeyUsage = codeSigning',
    `subjectAltName = ${uris.join(',')}`,
  ];
}

/** openssl's date format for -startdate/-enddate/-crl_nextupdate. */
export function opensslDate(date: Date): string {
  return `${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}

export class OpensslPki {
  private readonly root: string;
  private counter = 0;

  constructor(root: string) {
    this.root = root;
    mkdirSync(root, { recursive: true });
  }

  key(kind: KeyKind): string {
    const file = path.join(this.root, `key-${this.counter++}.pem`);
    openssl(['genpkey', ...KEY_OPTIONS[kind], '-out', file]);
    return file;
  }

  /** A self-signed root CA. */
  rootCa(name: string, keyKind: KeyKind = 'ec', key = this.key(keyKind)): OpensslCa {
    const ca = this.caDirectory(name, key);
    const ext = CA_EXTENSIONS.flatMap((e) => ['-addext', e]);
    openssl([
      'req',
      '-x509',
      '-new',
      '-key',
      key,
      '-subj',
      `/CN=${name}`,
      '-days',
      '3650',
      '-sha256',
      ...ext,
      '-out',
      ca.cert,
    ]);
    return ca;
  }

  /** A certificate for `name` with `extensions`, issued by `issuer`; returns its PEM file. */
  issue(
    issuer: OpensslCa,
    name: string,
    extensions: string[],
    options: { keyKind?: KeyKind; key?: string; digest?: string; notBefore?: Date; notAfter?: Date } = {},
  ): { cert: string; key: string } {
    const key = options.key ?? this.key(options.keyKind ?? 'ec');
    const id = this.counter++;
    const csr = path.join(this.root, `csr-${id}.pem`);
    const cert = path.join(this.root, `cert-${id}.pem`);
    const extfile = path.join(this.root, `ext-${id}.cnf`);
    writeFileSync(extfile, `[ext]\n${extensions.join('\n')}\n`);
    openssl(['req', '-new', '-key', key, '-subj', `/CN=${name}`, '-out', csr]);
    const notBefore = options.notBefore ?? new Date(Date.now() - 3_600_000);
    const notAfter = options.notAfter ?? new Date(Date.now() + 365 * 86_400_000);
    openssl([
      'ca',
      '-batch',
      '-notext',
      '-config',
      issuer.config,
      '-keyfile',
      issuer.key,
      '-cert',
      issuer.cert,
      '-md',
      options.digest ?? 'sha256',
      '-extfile',
      extfile,
      '-extensions',
      'ext',
      '-startdate',
      opensslDate(notBefore),
      '-enddate',
      opensslDate(notAfter),
      '-in',
      csr,
      '-out',
      cert,
    ]);
    return { cert, key };
  }

  /** Turns an issued certificate into a CA that can issue in its turn. */
  asCa(name: string, issued: { cert: string; key: string }): OpensslCa {
    const ca = this.caDirectory(name, issued.key);
    openssl(['x509', '-in', issued.cert, '-out', ca.cert]);
    return ca;
  }

  revoke(ca: OpensslCa, cert: string): void {
    openssl(['ca', '-config', ca.config, '-keyfile', ca.key, '-cert', ca.cert, '-revoke', cert]);
  }

  /**
   * The CA's next CRL (its crlNumber one above the last), due for renewal at `nextUpdate` (default:
   * in 30 days), issued at `lastUpdate` (default: an hour before now or nextUpdate).
   */
  crl(ca: OpensslCa, nextUpdate?: Date, lastUpdate?: Date): string {
    const file = path.join(this.root, `crl-${this.counter++}.pem`);
    const next = nextUpdate ?? new Date(Date.now() + 30 * 86_400_000);
    const last = lastUpdate ?? new Date(Math.min(Date.now(), next.getTime()) - 3_600_000);
    openssl([
      'ca',
      '-gencrl',
      '-config',
      ca.config,
      '-keyfile',
      ca.key,
      '-cert',
      ca.cert,
      '-md',
      'sha256',
      '-crl_lastupdate',
      opensslDate(last),
      '-crl_nextupdate',
      opensslDate(next),
      '-out',
      file,
    ]);
    return file;
  }

  /** The same certificate or CRL in DER, converted by openssl. */
  der(file: string, kind: 'x509' | 'crl'): string {
    const out = path.join(this.root, `der-${this.counter++}.der`);
    openssl([kind, '-in', file, '-outform', 'DER', '-out', out]);
    return out;
  }

  /** A copy of `file` cut off at half its length, as an interrupted download or copy leaves it. */
  truncated(file: string): string {
    const data = readFileSync(file);
    const out = path.join(this.root, `truncated-${this.counter++}${path.extname(file)}`);
    writeFileSync(out, data.subarray(0, Math.floor(data.length / 2)));
    return out;
  }

  /** `bytes` random bytes from openssl: a file that is no certificate or CRL at all. */
  garbage(bytes: number): string {
    const out = path.join(this.root, `garbage-${this.counter++}.bin`);
    openssl(['rand', '-out', out, String(bytes)]);
    return out;
  }

  private caDirectory(name: string, key: string): OpensslCa {
    const dir = path.join(this.root, `ca-${this.counter++}`);
    mkdirSync(path.join(dir, 'certs'), { recursive: true });
    writeFileSync(path.join(dir, 'index.txt'), '');
    writeFileSync(path.join(dir, 'serial'), `${(1000 + this.counter).toString(16).padStart(4, '0')}\n`);
    writeFileSync(path.join(dir, 'crlnumber'), '1000\n');
    const config = path.join(dir, 'ca.cnf');
    writeFileSync(
      config,
      [
        '[ca]',
        'default_ca = this_ca',
        '[this_ca]',
        `dir = ${dir}`,
        'database = $dir/index.txt',
        'new_certs_dir = $dir/certs',
        'serial = $dir/serial',
        'crlnumber = $dir/crlnumber',
        'default_md = sha256',
        'default_days = 365',
        'default_crl_days = 30',
        'policy = policy_any',
        'unique_subject = no',
        'copy_extensions = none',
        '[policy_any]',
        'commonName = supplied',
        '',
      ].join('\n'),
    );
    return { name, dir, key, cert: path.join(dir, 'ca.pem'), config };
  }
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}
