import { ConfigError } from '../config/errors.js';
import type { AuthConfig, ServerConfig } from '../config/types.js';

// Cross-field rules of the auth groups, applied by the config loader after every value has passed its format
// (the PEM keys are parsed by their formats). A JWKS file is read when the program builds its verifier.

/** The server ports that have an auth group, in the order start-up reports them. */
export const AUTH_PORTS = ['proxy', 'upstream', 'admin'] as const;

/** One of {@link AUTH_PORTS}. */
export type AuthPort = (typeof AUTH_PORTS)[number];

/** Whether a port's auth group turns auth on (Piko: any key or a JWKS endpoint set). */
export function isAuthOn(auth: AuthConfig): boolean {
  return auth.hmacSecretKey !== '' || auth.rsaPublicKey !== '' || auth.ecdsaPublicKey !== '' || auth.jwks.endpoint !== '';
}

/**
 * The auth rules of a server configuration: on each port and tenant a JWKS endpoint excludes the static keys (Piko
 * fails at start-up too); tenant IDs are unique and every tenant has a key or a JWKS endpoint; settings that only shape verification (`audience`, `issuer`, `jwks.cache_ttl`...) without a
 * key or endpoint turn nothing on, which deserves a warning rather than silence.
 */
export function checkServerAuth(config: ServerConfig, warnings: string[]): void {
  for (const port of AUTH_PORTS) checkAuthGroup(config[port].auth, `${port}.auth`, warnings);
  const seen = new Set<string>();
  for (const [i, tenant] of config.upstream.tenants.entries()) {
    const key = `upstream.tenants[${i}]`;
    if (seen.has(tenant.id)) throw new ConfigError('CONFIG_INVALID_VALUE', `${key}.id`, `duplicate tenant id ${JSON.stringify(tenant.id)}`);
    seen.add(tenant.id);
    checkAuthGroup(tenant.auth, `${key}.auth`, warnings);
    if (!isAuthOn(tenant.auth)) {
      throw new ConfigError('CONFIG_INVALID_VALUE', `${key}.auth`, 'a tenant needs hmac_secret_key, rsa_public_key, ecdsa_public_key or jwks.endpoint');
    }
  }
}

/** The rules of one auth group (`key` names it in messages): a JWKS endpoint excludes the static keys. */
function checkAuthGroup(auth: AuthConfig, key: string, warnings: string[]): void {
  if (auth.jwks.endpoint !== '' && (auth.hmacSecretKey !== '' || auth.rsaPublicKey !== '' || auth.ecdsaPublicKey !== '')) {
    throw new ConfigError('CONFIG_INVALID_VALUE', `${key}.jwks.endpoint`, 'cannot be combined with hmac_secret_key, rsa_public_key or ecdsa_public_key');
  }
  const shaped = auth.audience !== '' || auth.issuer !== '' || auth.jwks.cacheTtlMs !== 0 || auth.jwks.timeoutMs !== 0;
  if (!isAuthOn(auth) && shaped) {
    warnings.push(`config: ${key}: audience, issuer or jwks settings without a key or jwks.endpoint do not turn auth on; ignored`);
  }
}

/** The client side: `connect.token` and `connect.token_file` are two sources of one token, so at most one is set. */
export function checkClientToken(connect: { readonly token: string; readonly tokenFile: string }): void {
  if (connect.token !== '' && connect.tokenFile !== '') {
    throw new ConfigError('CONFIG_INVALID_VALUE', 'connect.token_file', 'cannot be combined with connect.token (set one)');
  }
}
