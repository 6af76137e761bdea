import { defineSchema } from './schema-tools.js';

/**
 * Where the configuration file is and how to read it. Given as flags or `PIKO_CONFIG_*` variables only,
 * never inside the file itself, so these keys are not part of the server or agent schemas.
 */
export const configFileSchema = defineSchema(
  {
    config: {
      path: { doc: 'YAML configuration file to load.', format: 'text', default: '' },
      expand_env: {
        doc: 'Expand ${VAR}, $VAR and ${VAR:default} in the file text before parsing it ($$ is a literal $).',
        format: 'bool',
        default: false,
      },
    },
  },
  'PIKO_',
);
