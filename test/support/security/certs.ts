import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Why the TLS tests cannot run here, or false: they make certificates with the `openssl` command and call the
 * server with `curl` (Debian packages `openssl` and `curl`). Pass it as a suite's `skip` option.
 */
export function missingTlsTools(): string | false {
  const missing = ['openssl', 'curl'].filter((tool) => spawnSync(tool, ['version']).error !== undefined);
  return missing.length === 0 ? false : `${missing.join(' and ')} not installed (Debian: apt-get install ${missing.join(' ')})`;
}

/** A certificate and its key, as files and as PEM text. */
export interface IssuedCert {
  readonly name: string;
  readonly certPath: string;
  readonly keyPath: string;
  readonly cert: string;
  readonly key: string;
  /** Upper-case hex, as Node's `getPeerCertificate().serialNumber` gives it. */
  readonly serial: string;
}

/** Options of a leaf certificate. */
export interface IssueOptions {
  /** Subject CN; default the name. */
  readonly cn?: string;
  /** Subject alternative names; default `IP:127.0.0.1`, `IP:::1` and `DNS:localhost`. */
  readonly san?: readonly string[];
  /** Extended key usages; default both serverAuth and clientAuth. */
  readonly usage?: 'server' | 'client' | 'both';
}

const openssl = (args: readonly string[]): void => {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
};

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/**
 * A random 64-bit serial in the form Node reports it (upper-case hex, whole bytes): the first byte is kept
 * between 0x10 and 0x7f so that no leading zero is dropped and the number stays positive.
 */
function randomSerial(): string {
  const bytes = randomBytes(8);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x10;
  return bytes.toString('hex').toUpperCase();
}

/**
 * A throw-away PKI made with the `openssl` command in a temporary directory: certificate authorities and the
 * certificates they sign (EC P-256, valid two days). Every name is a file stem in {@link dir}. Call
 * {@link cleanup} in `after`.
 */
export class TestPki {
  readonly dir: string;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'piko-tls-'));
  }

  /** Path of a file in the PKI's directory. */
  path(file: string): string {
    return join(this.dir, file);
  }

  /** A self-signed certificate authority `<name>.crt` / `<name>.key`. */
  ca(name: string): IssuedCert {
    const certPath = this.path(`${name}.crt`);
    const keyPath = this.path(`${name}.key`);
    const serial = randomSerial();
    openssl([
      'req', '-x509', ...EC, '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', `/CN=${name}`,
      '-set_serial', `0x${serial}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    return { name, certPath, keyPath, cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8'), serial };
  }

  /** A certificate `<name>.crt` / `<name>.key` signed by `ca`, with a random serial. */
  issue(ca: IssuedCert, name: string, options: IssueOptions = {}): IssuedCert {
    const certPath = this.path(`${name}.crt`);
    const keyPath = this.path(`${name}.key`);
    const csr = this.path(`${name}.csr`);
    const ext = this.path(`${name}.ext`);
    const usage = { server: 'serverAuth', client: 'clientAuth', both: 'serverAuth,clientAuth' }[options.usage ?? 'both'];
    const san = options.san ?? ['IP:127.0.0.1', 'IP:::1', 'DNS:localhost'];
    writeFileSync(ext, [`basicConstraints=CA:FALSE`, `extendedKeyUsage=${usage}`, ...(san.length > 0 ? [`subjectAltName=${san.join(',')}`] : [])].join('\n'));
    openssl(['req', ...EC, '-keyout', keyPath, '-out', csr, '-subj', `/CN=${options.cn ?? name}`]);
    const serial = randomSerial();
    openssl(['x509', '-req', '-in', csr, '-CA', ca.certPath, '-CAkey', ca.keyPath, '-set_serial', `0x${serial}`, '-days', '2', '-out', certPath, '-extfile', ext]);
    return { name, certPath, keyPath, cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8'), serial };
  }

  /** Writes `text` to `file` in the PKI's directory (returns its path). */
  write(file: string, text: string): string {
    const path = this.path(file);
    writeFileSync(path, text);
    return path;
  }

  /**
   * Replaces `target` with the contents of `source` atomically (write aside, then rename), as a deployment tool
   * or a Kubernetes secret update does: a reader never sees half a file.
   */
  replace(target: string, source: string): void {
    const aside = `${target}.next`;
    writeFileSync(aside, readFileSync(source));
    renameSync(aside, target);
  }

  /** Removes the directory and everything in it. */
  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
