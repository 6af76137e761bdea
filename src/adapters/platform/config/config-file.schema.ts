import { defineSchema, field } from './schema-tools.js';

/**
 * Where the configuration file is and how to read it. Given as flags or `PIKO_CONFIG_*` variables only, never
 * inside the file itself, so these keys are not part of the server, agent or forward schemas.
 */
export const configFileSchema = defineSchema(
  {
    config: {
      path: field('text', '', 'YAML configuration file to load.'),
      expand_env: field('bool', false, 'Expand ${VAR}, $VAR and ${VAR:default} in the file text before parsing it ($$ is a literal $).'),
    },
  },
  'PIKO_',
);
