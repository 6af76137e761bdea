import { createHash } from 'node:crypto';
import type { SecureContextOptions } from 'node:tls';
import type { ClientTlsConfig, PeerTlsConfig, PortTlsConfig } from '../config/types.js';
import { checkKeyMatches, readCaBundle, readCertificate, readPemFile, readPrivateKey, type PemSource, type ReadPemFile } from './pem-files.js';

/**
 * TLS material read from its files: the options handed to Node, a fingerprint of the files' contents (a reload
 * that reads the same bytes changes nothing), the files to watch, and a few facts for the log.
 */
export interface TlsMaterial<T> {
  readonly options: T;
  readonly fingerprint: string;
  readonly files: readonly string[];
  readonly facts: Readonly<Record<string, string>>;
}

/**
 * What a TLS server port is given: its secure context (certificate, key, client CA bundle) and, with a client CA
 * bundle, `requestCert` + `rejectUnauthorized` so a client without a certificate it verifies fails the handshake.
 */
export type ServerTlsOptions = SecureContextOptions & { readonly requestCert: boolean; readonly rejectUnauthorized: boolean };

/**
 * What a TLS client is given (a subset of Node's `tls.connect` options): the CA bundle replacing the system
 * roots, the client certificate and key (PEM), whether the server is verified, and the name it is verified
 * against (and sent as SNI) when not the host dialled.
 */
export interface ClientTlsOptions {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly rejectUnauthorized?: boolean;
  readonly servername?: string;
}

/** TLS 1.2 is the oldest version offered or accepted, as in Go (Piko). */
export const MIN_TLS_VERSION = 'TLSv1.2';

const fingerprintOf = (parts: readonly string[]): string => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex');
};

/** Reads a certificate and its key, checking they belong together. */
function readPair(cert: PemSource, key: PemSource, readFile: ReadPemFile) {
  const certFile = readCertificate(cert, readFile);
  const keyFile = readPrivateKey(key, readFile);
  checkKeyMatches(certFile, cert, keyFile, key);
  return { cert: certFile, key: keyFile };
}

/** True when a server port has TLS configured (the loader has checked that cert and key come together). */
export const portTlsEnabled = (tls: PortTlsConfig): boolean => tls.cert !== '' && tls.key !== '';

/**
 * Reads the TLS files of a server port configured under `prefix` (`proxy.tls`). Throws a TlsFileError naming the
 * key, the file and the reason when one is missing, is not PEM, or the key does not match the certificate.
 */
export function loadServerTls(tls: PortTlsConfig, prefix: string, readFile: ReadPemFile = readPemFile): TlsMaterial<ServerTlsOptions> {
  const { cert, key } = readPair({ key: `${prefix}.cert`, path: tls.cert }, { key: `${prefix}.key`, path: tls.key }, readFile);
  const ca = tls.clientCas === '' ? undefined : readCaBundle({ key: `${prefix}.client_cas`, path: tls.clientCas }, readFile);
  return {
    options: {
      cert: cert.pem,
      key: key.pem,
      minVersion: MIN_TLS_VERSION,
      requestCert: ca !== undefined,
      rejectUnauthorized: ca !== undefined,
      ...(ca !== undefined && { ca }),
    },
    fingerprint: fingerprintOf([cert.pem, key.pem, ca ?? '']),
    files: [tls.cert, tls.key, ...(ca !== undefined ? [tls.clientCas] : [])],
    facts: { subject: cert.leaf.subject.replaceAll('\n', ', '), serial: cert.leaf.serialNumber, 'not-after': cert.leaf.validTo },
  };
}

/** True when a client TLS group sets anything (a file, or skipping verification). */
export const clientTlsConfigured = (tls: ClientTlsConfig): boolean =>
  tls.cert !== '' || tls.key !== '' || tls.rootCas !== '' || tls.insecureSkipVerify;

/**
 * Reads the client TLS files configured under `prefix` (`connect.tls`, `proxy.tls.client`, `listeners[0].tls`):
 * a CA bundle replacing the system roots when `rootCas` is set, a client certificate when `cert` is set.
 * Throws a TlsFileError as {@link loadServerTls} does.
 */
export function loadClientTls(
  tls: ClientTlsConfig & Partial<Pick<PeerTlsConfig, 'serverName'>>,
  prefix: string,
  readFile: ReadPemFile = readPemFile,
): TlsMaterial<ClientTlsOptions> {
  const pair = tls.cert === '' ? undefined : readPair({ key: `${prefix}.cert`, path: tls.cert }, { key: `${prefix}.key`, path: tls.key }, readFile);
  const ca = tls.rootCas === '' ? undefined : readCaBundle({ key: `${prefix}.root_cas`, path: tls.rootCas }, readFile);
  const serverName = tls.serverName ?? '';
  return {
    options: {
      rejectUnauthorized: !tls.insecureSkipVerify,
      ...(ca !== undefined && { ca }),
      ...(pair !== undefined && { cert: pair.cert.pem, key: pair.key.pem }),
      ...(serverName !== '' && { servername: serverName }),
    },
    fingerprint: fingerprintOf([pair?.cert.pem ?? '', pair?.key.pem ?? '', ca ?? '', String(tls.insecureSkipVerify), serverName]),
    files: [...(pair !== undefined ? [tls.cert, tls.key] : []), ...(ca !== undefined ? [tls.rootCas] : [])],
    facts: pair === undefined ? {} : { subject: pair.cert.leaf.subject.replaceAll('\n', ', '), serial: pair.cert.leaf.serialNumber },
  };
}
