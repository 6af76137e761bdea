import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config/errors.js';

/** Reads a file as text; tests pass a fake. */
export type ReadPemFile = (path: string) => string;

/** The default {@link ReadPemFile}: the file as UTF-8. */
export const readPemFile: ReadPemFile = (path) => readFileSync(path, 'utf8');

/** A file named by a config key: `{ key: 'proxy.tls.cert', path: '/etc/piko/cert.pem' }`. */
export interface PemSource {
  readonly key: string;
  readonly path: string;
}

/**
 * A TLS file that cannot be used. The message is one line naming the config key, the file and why
 * (`config: proxy.tls.cert: /etc/cert.pem is not a PEM certificate ...`), so start-up can print it as it is and a
 * failed reload can log it; `file` is the path at fault.
 */
export class TlsFileError extends ConfigError {
  constructor(
    readonly file: string,
    key: string,
    reason: string,
  ) {
    super('CONFIG_INVALID_VALUE', key, `${file}: ${reason}`);
    this.name = 'TlsFileError';
  }
}

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
const KEY_BLOCK = /-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----[\s\S]*?-----END \1-----/;

function read(source: PemSource, readFile: ReadPemFile): string {
  try {
    return readFile(source.path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : String((err as Error).message);
    throw new TlsFileError(source.path, source.key, `cannot read the file (${why})`);
  }
}

/** Every certificate of a PEM text, parsed; throws naming the file when there is none or one does not parse. */
function certificates(source: PemSource, text: string, what: string): X509Certificate[] {
  const blocks = text.match(CERT_BLOCK) ?? [];
  if (blocks.length === 0) throw new TlsFileError(source.path, source.key, `is not a PEM ${what} (no -----BEGIN CERTIFICATE----- block)`);
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (err) {
      throw new TlsFileError(source.path, source.key, `certificate ${i + 1} of the file does not parse (${(err as Error).message})`);
    }
  });
}

/** A certificate file: the leaf first, then the chain that may follow it. */
export interface CertificateFile {
  readonly pem: string;
  readonly leaf: X509Certificate;
}

/** Reads a certificate (chain) file; throws a {@link TlsFileError} when it is missing or not PEM certificates. */
export function readCertificate(source: PemSource, readFile: ReadPemFile = readPemFile): CertificateFile {
  const pem = read(source, readFile);
  const [leaf] = certificates(source, pem, 'certificate');
  return { pem, leaf: leaf as X509Certificate };
}

/** A private key file. */
export interface PrivateKeyFile {
  readonly pem: string;
  readonly key: KeyObject;
}

/**
 * Reads an unencrypted PEM private key (PKCS#8, PKCS#1 RSA or SEC1 EC); throws a {@link TlsFileError} when it is
 * missing, not PEM, encrypted or does not parse.
 */
export function readPrivateKey(source: PemSource, readFile: ReadPemFile = readPemFile): PrivateKeyFile {
  const pem = read(source, readFile);
  const block = KEY_BLOCK.exec(pem);
  if (block === null) throw new TlsFileError(source.path, source.key, 'is not a PEM private key (no -----BEGIN PRIVATE KEY----- block)');
  if (block[1] === 'ENCRYPTED PRIVATE KEY') throw new TlsFileError(source.path, source.key, 'is an encrypted private key (not supported: decrypt it)');
  try {
    return { pem, key: createPrivateKey(block[0]) };
  } catch (err) {
    throw new TlsFileError(source.path, source.key, `the private key does not parse (${(err as Error).message})`);
  }
}

/** Reads a CA bundle (one or more PEM certificates); throws a {@link TlsFileError} when it is missing or holds none. */
export function readCaBundle(source: PemSource, readFile: ReadPemFile = readPemFile): string {
  const pem = read(source, readFile);
  certificates(source, pem, 'CA bundle');
  return pem;
}

/** Throws a {@link TlsFileError} naming the key file when `key` is not the private key of `cert`'s leaf. */
export function checkKeyMatches(cert: CertificateFile, certSource: PemSource, key: PrivateKeyFile, keySource: PemSource): void {
  let matches: boolean;
  try {
    matches = cert.leaf.checkPrivateKey(key.key);
  } catch {
    matches = false;
  }
  if (!matches) {
    throw new TlsFileError(keySource.path, keySource.key, `does not match the certificate of ${certSource.key} (${certSource.path})`);
  }
}
