// js-keyword: example filter plugin in JavaScript.
//
// A rule using it matches a message whose title or body (configurable)
// contains any of the configured keywords; the verdict's note names the
// keyword that matched (or says that none did), and the user sees it beside
// the message. Case-insensitive unless `case_sensitive` is set. Built with
// `npm run build` into dist/js_keyword.wasm. Filters get no network: this
// module imports nothing from '@beacon-spear/plugin-sdk/http'.

import { ConfigError, defineFilter, Verdict } from '@beacon-spear/plugin-sdk';

export const VERSION = '0.1.0';

/** The config's JSON Schema: the dashboard draws its form from it. */
export const configSchema = {
  type: 'object',
  properties: {
    keywords: {
      type: 'array',
      description: 'Words or phrases; the rule matches when any of them occurs.',
      items: { type: 'string', minLength: 1, maxLength: 200 },
      minItems: 1,
      maxItems: 100,
    },
    fields: {
      type: 'array',
      description: 'Which parts of the message to search.',
      items: { type: 'string', enum: ['title', 'body'] },
      minItems: 1,
      default: ['title', 'body'],
    },
    case_sensitive: { type: 'boolean', description: 'Match upper/lower case exactly.', default: false },
  },
  required: ['keywords'],
  additionalProperties: false,
};

/** Checks beyond the schema: no blank keyword, no duplicates. */
export function validate(config) {
  const seen = new Set();
  config.keywords.forEach((keyword, i) => {
    if (keyword.trim() === '') throw new ConfigError(`keywords[${i}]`, 'must not be blank');
    const key = config.case_sensitive ? keyword : keyword.toLowerCase();
    if (seen.has(key)) throw new ConfigError(`keywords[${i}]`, `repeats ${JSON.stringify(keyword)}`);
    seen.add(key);
  });
}

/** `[field, keyword]` of the first keyword found, or undefined (pure). */
export function firstMatch(config, message) {
  const fold = config.case_sensitive ? (s) => s : (s) => s.toLowerCase();
  for (const field of config.fields) {
    const text = field === 'title' ? message.title : message.body;
    if (!text) continue;
    const haystack = fold(text);
    for (const keyword of config.keywords) {
      if (haystack.includes(fold(keyword))) return [field, keyword];
    }
  }
  return undefined;
}

export const filterApi = defineFilter({
  id: 'js-keyword',
  name: 'Keyword match (JS example)',
  version: VERSION,
  description: 'Example JavaScript filter: matches messages whose title or body contains one of the configured keywords.',
  configSchema,
  validate,
  evaluate(config, message) {
    const found = firstMatch(config, message);
    if (!found) return Verdict.block(`no keyword in the ${config.fields.join(' or ')}`);
    const [field, keyword] = found;
    return Verdict.pass(`the ${field} contains ${JSON.stringify(keyword)}`);
  },
});
