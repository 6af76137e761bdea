/** One sample line of a Prometheus text exposition: `name{labels} value`. */
export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

/**
 * Parses the sample lines of a Prometheus text exposition (format 0.0.4): comments are skipped, label values are
 * unescaped (`\\`, `\"`, `\n`), and `+Inf`, `-Inf` and `NaN` become numbers. Throws on a line it cannot read, so
 * that a malformed exposition fails the test that reads it.
 */
export function parsePromText(text: string): PromSample[] {
  const samples: PromSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    samples.push(parseLine(line));
  }
  return samples;
}

function parseLine(line: string): PromSample {
  const nameMatch = NAME.exec(line);
  if (nameMatch === null) throw new Error(`cannot read the metric name of ${JSON.stringify(line)}`);
  const name = nameMatch[0];
  let i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i += 1;
    while (line[i] !== '}') {
      const labelMatch = NAME.exec(line.slice(i));
      if (labelMatch === null || line[i + labelMatch[0].length] !== '=' || line[i + labelMatch[0].length + 1] !== '"') {
        throw new Error(`cannot read the labels of ${JSON.stringify(line)}`);
      }
      i += labelMatch[0].length + 2;
      let value = '';
      for (;;) {
        const c = line[i];
        if (c === undefined) throw new Error(`unterminated label value in ${JSON.stringify(line)}`);
        i += 1;
        if (c === '"') break;
        if (c === '\\') {
          const next = line[i];
          i += 1;
          value += next === 'n' ? '\n' : (next ?? '');
        } else {
          value += c;
        }
      }
      labels[labelMatch[0]] = value;
      if (line[i] === ',') i += 1;
    }
    i += 1;
  }
  const rest = line.slice(i).trim().split(/\s+/);
  const raw = rest[0];
  if (raw === undefined || raw === '') throw new Error(`no value in ${JSON.stringify(line)}`);
  const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
  if (Number.isNaN(value) && raw !== 'NaN') throw new Error(`cannot read the value of ${JSON.stringify(line)}`);
  return { name, labels, value };
}

/** True when `labels` holds exactly the pairs of `wanted` (order does not matter). */
export function sameLabels(labels: Readonly<Record<string, string>>, wanted: Readonly<Record<string, string>>): boolean {
  const a = Object.keys(labels);
  return a.length === Object.keys(wanted).length && a.every((k) => wanted[k] === labels[k]);
}
