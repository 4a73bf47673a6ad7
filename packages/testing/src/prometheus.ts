/// <reference path="./types/parse-prometheus-text-format.d.ts" />
// parse-prometheus-text-format ships no types; this is the shape it documents (prom2json's).
import parsePrometheusTextFormat from 'parse-prometheus-text-format';

export interface PromSample {
  labels?: Record<string, string>;
  value?: string;
  /** Histograms: upper bound → cumulative count. */
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}

export interface PromFamily {
  name: string;
  help: string;
  type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  metrics: PromSample[];
}

/**
 * Prometheus text parsed by a real parser (a port of the Python client's), so a test
 * checks what a scraper would read, not what a regex thinks the text says.
 *
 * That parser folds every sample of a labelled histogram into one, losing the labels; so the
 * text is parsed twice: as is (families and their types), and with the histograms' `# TYPE`
 * lines dropped, where their `_bucket`, `_sum` and `_count` lines are read as plain series
 * with their labels.
 */
export class PromScrape {
  readonly families: ReadonlyMap<string, PromFamily>;
  /** Every series by name, histograms' `_bucket`, `_sum` and `_count` included, labels kept. */
  readonly series: ReadonlyMap<string, PromFamily>;

  constructor(text: string) {
    const parse = parsePrometheusTextFormat as (text: string) => PromFamily[];
    this.families = new Map(parse(text).map((family) => [family.name, family]));
    const flat = text
      .split('\n')
      .filter((line) => !/^# TYPE \S+ histogram\s*$/.test(line))
      .join('\n');
    // Without their TYPE, a histogram's label sets come as runs of `_bucket`, `_sum`, `_count`
    // that the parser reports as families of their own, a name once per run: merged here.
    const series = new Map<string, PromFamily>();
    for (const family of parse(flat)) {
      const seen = series.get(family.name);
      if (seen) seen.metrics.push(...family.metrics);
      else series.set(family.name, { ...family, metrics: [...family.metrics] });
    }
    this.series = series;
  }

  /** The samples of series `name` whose labels include `labels` (a histogram's: `<name>_count`). */
  samples(name: string, labels: Record<string, string> = {}): PromSample[] {
    const series = this.families.get(name)?.type === 'HISTOGRAM' ? `${name}_count` : name;
    return (this.series.get(series)?.metrics ?? []).filter((sample) =>
      Object.entries(labels).every(([key, value]) => sample.labels?.[key] === value),
    );
  }

  /** Sum of the values of the matching samples: a counter's or gauge's, a histogram's counts. */
  sum(name: string, labels: Record<string, string> = {}): number {
    return this.samples(name, labels).reduce((total, sample) => total + Number(sample.value ?? 0), 0);
  }

  /** Sum of the observed values of histogram `name` over the matching label sets. */
  observedSum(name: string, labels: Record<string, string> = {}): number {
    return this.sum(`${name}_sum`, labels);
  }

  /** Every label value of every series (histogram buckets' `le` aside), with its series and label name. */
  *labelValues(): Generator<{ family: string; label: string; value: string }> {
    for (const family of this.series.values()) {
      for (const sample of family.metrics) {
        for (const [label, value] of Object.entries(sample.labels ?? {})) {
          if (label !== 'le') yield { family: family.name, label, value };
        }
      }
    }
  }
}

/** Fetches `url` and parses it; throws unless it answers 200. */
export async function scrapePrometheus(
  url: string,
  headers: Record<string, string> = {},
): Promise<PromScrape> {
  const response = await fetch(url, { headers });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}: ${text.slice(0, 200)}`);
  return new PromScrape(text);
}
