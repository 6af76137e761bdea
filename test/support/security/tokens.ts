import { createHmac } from 'node:crypto';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

/** One asymmetric signing key made at test time: its private half signs, its public half goes in the config. */
export interface SigningKey {
  readonly alg: 'RS256' | 'ES256';
  readonly privateKey: CryptoKey;
  /** SPKI PEM text of the public key, as `rsa_public_key` / `ecdsa_public_key` take it. */
  readonly publicPem: string;
  /** The public key as a JWK with `kid`, `alg` and `use`, for a JWKS. */
  readonly jwk: JWK;
  readonly kid: string;
}

/** Claims of a test token; times are Unix seconds, as in a JWT. */
export interface TokenClaims extends JWTPayload {
  readonly piko?: { readonly endpoints?: readonly string[] };
}

let kidCounter = 0;

/** Makes an RS256 or ES256 key pair at test time (extractable, so the public half can be exported). */
export async function makeSigningKey(alg: 'RS256' | 'ES256', kid = `k${++kidCounter}`): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { alg, privateKey, publicPem: await exportSPKI(publicKey), jwk, kid };
}

/** Unix seconds now, plus `offsetS`. */
export const nowS = (offsetS = 0): number => Math.floor(Date.now() / 1000) + offsetS;

/** Signs `claims` with an asymmetric key (kid in the header). */
export function signWith(key: SigningKey, claims: TokenClaims): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid }).sign(key.privateKey);
}

/** Signs `claims` with HS256/384/512 and the bytes of `secret` (which may be any text, such as a PEM). */
export function signHmac(secret: string, claims: TokenClaims, alg: 'HS256' | 'HS384' | 'HS512' = 'HS256'): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg }).sign(new TextEncoder().encode(secret));
}

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** An unsigned token (`alg: none`), which no port may accept. */
export function unsignedToken(claims: TokenClaims): string {
  return `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}.`;
}

/**
 * An HS256 token whose MAC key is `key` taken as bytes, built by hand (no library involved): the classic
 * algorithm-confusion forgery when `key` is a server's RSA public key text.
 */
export function hs256ByHand(key: string, claims: TokenClaims): string {
  const signingInput = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url(claims)}`;
  return `${signingInput}.${createHmac('sha256', key).update(signingInput).digest('base64url')}`;
}

/** A JWKS document of public keys. */
export const jwksOf = (...keys: readonly SigningKey[]): { keys: JWK[] } => ({ keys: keys.map((k) => k.jwk) });
