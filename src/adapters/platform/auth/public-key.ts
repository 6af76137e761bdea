import { createPublicKey, type KeyObject } from 'node:crypto';

/** The asymmetric key types a port verifies tokens with: RSA (RS256/384/512) and EC (ES256/384/512). */
export type PublicKeyKind = 'rsa' | 'ec';

const NAMES: Readonly<Record<PublicKeyKind, string>> = { rsa: 'an RSA', ec: 'an EC (ECDSA)' };

/**
 * Parses the PEM text of a public key (`-----BEGIN PUBLIC KEY-----`, PKCS#1 `RSA PUBLIC KEY`, or an X.509
 * certificate, as Piko's parser accepts) and checks its type. Returns the key, or the reason it is refused as
 * one sentence without the value: not PEM, a private key (the secret half never belongs in a server's
 * config), unreadable, or a key of another type.
 */
export function parsePublicKeyPem(pem: string, kind: PublicKeyKind): KeyObject | string {
  const text = pem.trim();
  if (!text.startsWith('-----BEGIN ')) return `must be the PEM text of ${NAMES[kind]} public key (-----BEGIN PUBLIC KEY-----...), not a file path`;
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) return `is a private key: give the public key (openssl pkey -pubout)`;
  let key: KeyObject;
  try {
    key = createPublicKey({ key: text, format: 'pem' });
  } catch (err) {
    const why = err instanceof Error ? err.message.replace(/^error:[^:]*:/, '').trim() : String(err);
    return `is not a readable PEM public key (${why})`;
  }
  if (key.asymmetricKeyType !== kind) return `is ${key.asymmetricKeyType ?? 'an unknown'} key, not ${NAMES[kind]} public key`;
  return key;
}
