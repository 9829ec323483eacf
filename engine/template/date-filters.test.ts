import { describe, expect, it } from 'vitest';
import { TemplateError, renderTemplate, renderTyped } from './index.ts';

const vars = {
  trigger: { date: '2019-03-01T09:00:00Z' },
  precise: '2019-03-01T09:00:00.123456Z',
  local: '2019-03-01T09:00:00',
  day: '2019-03-01',
  epoch: 1551430800,
  jsDate: new Date(Date.UTC(2019, 2, 1, 9, 0, 0)),
};

const r = (template: string) => renderTemplate(template, vars);

async function failure(template: string): Promise<string> {
  try {
    await renderTemplate(template, vars);
  } catch (err) {
    expect(err).toBeInstanceOf(TemplateError);
    return (err as Error).message;
  }
  throw new Error(`expected ${template} to fail`);
}

describe('date filter: Java DateTimeFormatter patterns', () => {
  it('formats years, months, days, hours, minutes, seconds', async () => {
    expect(await r("{{ trigger.date | date('yyyy') }}|{{ trigger.date | date('MM') }}|{{ trigger.date | date('dd') }}")).toBe('2019|03|01');
    expect(await r("{{ trigger.date | date(\"yyyy-MM-dd'T'HH:mm\", timeZone='UTC') }}")).toBe('2019-03-01T09:00');
    expect(await r("{{ trigger.date | date('yy M d H m s', timeZone='UTC') }}")).toBe('19 3 1 9 0 0');
    expect(await r("{{ trigger.date | date('D u G', timeZone='UTC') }}")).toBe('60 2019 AD');
  });

  it('formats fractions of seconds', async () => {
    expect(await r("{{ precise | date('ss.SSS') }}|{{ precise | date('SSSSSS') }}|{{ precise | date('SSSSSSSSS') }}")).toBe('00.123|123456|123456000');
  });

  it('formats text fields in English by default and in other locales on request', async () => {
    expect(await r("{{ trigger.date | date('EEE EEEE MMM MMMM', timeZone='UTC') }}")).toBe('Fri Friday Mar March');
    expect(await r("{{ trigger.date | date('h a, hh:mm', timeZone='UTC') }}")).toBe('9 AM, 09:00');
    expect(await r("{{ trigger.date | date('EEEE d MMMM yyyy', timeZone='UTC', locale='fr') }}")).toBe('vendredi 1 mars 2019');
  });

  it('names months as Java does in a date (the genitive of Russian, Polish…), and takes Java locale forms', async () => {
    expect(await r("{{ trigger.date | date('d MMMM yyyy', timeZone='UTC', locale='ru') }}")).toBe('1 марта 2019');
    expect(await r("{{ trigger.date | date('d MMMM yyyy', timeZone='UTC', locale='pl_PL') }}")).toBe('1 marca 2019');
    expect(await failure("{{ trigger.date | date('yyyy', locale='not a locale!') }}")).toContain('Invalid locale format: not a locale!');
  });

  it('formats quarters and weeks', async () => {
    expect(await r("{{ trigger.date | date('Q QQQ w', timeZone='UTC') }}")).toBe('1 Q1 9');
  });

  it('formats offsets and zones', async () => {
    expect(await r("{{ trigger.date | date('XXX|XX|X|Z|ZZZZZ|xxx|VV', timeZone='Europe/Paris') }}")).toBe('+01:00|+0100|+01|+0100|+01:00|+01:00|Europe/Paris');
    expect(await r("{{ trigger.date | date('XXX|Z|xxx|z', timeZone='UTC') }}")).toBe('Z|+0000|+00:00|UTC');
    expect(await r("{{ trigger.date | date('HH:mm XXX', timeZone='America/New_York') }}")).toBe('04:00 -05:00');
  });

  it('names zones as Java: z the specific name on that date, v the generic one, an offset zone its ID', async () => {
    const summer = "'2019-07-01T09:00:00Z'";
    expect(await r(`{{ ${summer} | date('z|zzzz|v|vvvv', timeZone='America/New_York') }}`)).toBe('EDT|Eastern Daylight Time|ET|Eastern Time');
    expect(await r("{{ trigger.date | date('z|zzzz', timeZone='America/New_York') }}")).toBe('EST|Eastern Standard Time');
    expect(await r("{{ trigger.date | date('HH:mm z', timeZone='+02:00') }}")).toBe('11:00 +02:00');
    expect(await failure("{{ trigger.date | date('zzzzz') }}")).toContain('Too many pattern letters: z');
  });

  it('handles quoted literals and escaped quotes', async () => {
    expect(await r("{{ trigger.date | date(\"'Year' yyyy, 'o''clock' HH\", timeZone='UTC') }}")).toBe("Year 2019, o'clock 09");
    expect(await r("{{ trigger.date | date(\"yyyy''MM\", timeZone='UTC') }}")).toBe("2019'03");
  });

  it('rejects unknown pattern letters', async () => {
    expect(await failure("{{ trigger.date | date('yyyy-bb') }}")).toContain('Unknown pattern letter: b');
  });
});

describe('date filter: named formats', () => {
  it('iso (the default), iso_sec, sql, sql_seq', async () => {
    expect(await r("{{ trigger.date | date(timeZone='UTC') }}")).toBe('2019-03-01T09:00:00.000000Z');
    expect(await r("{{ trigger.date | date('iso', timeZone='Europe/Paris') }}")).toBe('2019-03-01T10:00:00.000000+01:00');
    expect(await r("{{ precise | date('iso_sec', timeZone='UTC') }}")).toBe('2019-03-01T09:00:00Z');
    expect(await r("{{ precise | date('sql', timeZone='UTC') }}|{{ precise | date('sql_seq', timeZone='UTC') }}")).toBe('2019-03-01 09:00:00.123456|2019-03-01 09:00:00');
  });

  it('ISO formatters of java.time', async () => {
    expect(await r("{{ trigger.date | date('iso_date_time', timeZone='Europe/Paris') }}")).toBe('2019-03-01T10:00:00+01:00[Europe/Paris]');
    expect(await r("{{ trigger.date | date('iso_date_time', timeZone='+02:00') }}")).toBe('2019-03-01T11:00:00+02:00');
    expect(await r("{{ precise | date('iso_local_date_time', timeZone='UTC') }}")).toBe('2019-03-01T09:00:00.123456');
    expect(await r("{{ trigger.date | date('iso_date', timeZone='Europe/Paris') }}|{{ trigger.date | date('iso_local_date', timeZone='UTC') }}")).toBe('2019-03-01+01:00|2019-03-01');
    expect(await r("{{ trigger.date | date('iso_time', timeZone='UTC') }}|{{ trigger.date | date('iso_local_time', timeZone='UTC') }}")).toBe('09:00:00Z|09:00:00');
    expect(await r("{{ precise | date('iso_instant', timeZone='Europe/Paris') }}")).toBe('2019-03-01T09:00:00.123456Z');
    expect(await r("{{ trigger.date | date('iso_ordinal_date', timeZone='+01:00') }}|{{ trigger.date | date('iso_week_date', timeZone='+01:00') }}")).toBe(
      '2019-060+01:00|2019-W09-5+01:00',
    );
    expect(await r("{{ trigger.date | date('rfc_1123_date_time', timeZone='UTC') }}")).toBe('Fri, 1 Mar 2019 09:00:00 GMT');
    expect(await r("{{ trigger.date | date('rfc_1123_date_time', timeZone='Europe/Paris') }}")).toBe('Fri, 1 Mar 2019 10:00:00 +0100');
  });

  it('localized styles', async () => {
    expect(await r("{{ trigger.date | date('medium', timeZone='UTC') }}")).toMatch(/^Mar 1, 2019, 9:00:00\sAM$/);
    expect(await r("{{ trigger.date | date('short', timeZone='UTC') }}")).toMatch(/^3\/1\/19, 9:00\sAM$/);
  });

  it('localized styles in a fixed-offset zone, which Intl cannot name', async () => {
    expect(await r("{{ trigger.date | date('medium', timeZone='+02:00') }}")).toMatch(/^Mar 1, 2019, 11:00:00\sAM$/);
    expect(await r("{{ trigger.date | date('full', timeZone='UTC+05:30') }}")).toMatch(/^Friday, March 1, 2019 at 2:30:00\sPM UTC\+05:30$/);
  });
});

describe('date filter: inputs', () => {
  it('accepts ISO strings with offsets, zone ids, or no zone, dates, epoch seconds and Date objects', async () => {
    expect(await r("{{ '2019-03-01T10:00:00+01:00' | date('HH:mm', timeZone='UTC') }}")).toBe('09:00');
    expect(await r("{{ '2019-03-01T10:00:00+01' | date('HH:mm', timeZone='UTC') }}")).toBe('09:00');
    expect(await r("{{ '2019-07-01T10:00:00+02:00[Europe/Paris]' | date('HH:mm', timeZone='UTC') }}")).toBe('08:00');
    expect(await r("{{ local | date('iso_sec', timeZone='Europe/Paris') }}")).toBe('2019-03-01T09:00:00+01:00');
    expect(await r("{{ day | date('iso_sec', timeZone='UTC') }}")).toBe('2019-03-01T00:00:00Z');
    expect(await r("{{ epoch | date('iso_sec', timeZone='UTC') }}|{{ jsDate | date('iso_sec', timeZone='UTC') }}")).toBe('2019-03-01T09:00:00Z|2019-03-01T09:00:00Z');
  });

  it('parses with existingFormat', async () => {
    expect(await r("{{ '01/03/2019 09:15' | date('yyyy-MM-dd HH:mm', existingFormat='dd/MM/yyyy HH:mm', timeZone='UTC') }}")).toBe('2019-03-01 09:15');
    expect(await r("{{ '20190301' | date('yyyy-MM-dd', existingFormat='yyyyMMdd', timeZone='UTC') }}")).toBe('2019-03-01');
    expect(await r("{{ '1 Mar 2019 10:00 +0100' | date('iso_sec', existingFormat='d MMM yyyy HH:mm Z', timeZone='UTC') }}")).toBe('2019-03-01T09:00:00Z');
    expect(await r("{{ '2019-03-01 09:00:00' | date('iso_sec', existingFormat='sql_seq', timeZone='UTC') }}")).toBe('2019-03-01T09:00:00Z');
  });

  it('resolves a pattern as Java does (ResolverStyle.SMART: a day past the end of the month is its last day)', async () => {
    expect(await r("{{ '2019-02-30' | date('yyyy-MM-dd', existingFormat='yyyy-MM-dd', timeZone='UTC') }}")).toBe('2019-02-28');
    expect(await failure("{{ '2019-02-32' | date('yyyy', existingFormat='yyyy-MM-dd') }}")).toContain("Text '2019-02-32' could not be parsed");
  });

  it('returns null for null and fails on bad input or zone', async () => {
    expect(await r("[{{ null | date('yyyy') }}]")).toBe('[]');
    expect(await failure("{{ 'not a date' | date('yyyy') }}")).toContain("Text 'not a date' could not be parsed");
    expect(await failure("{{ '2019-02-30' | date('yyyy') }}")).toContain('could not be parsed');
    expect(await failure("{{ trigger.date | date('yyyy', timeZone='Mars/Base') }}")).toContain('Unknown time-zone ID: Mars/Base');
    expect(await failure("{{ [1] | date('yyyy') }}")).toContain('Unable to convert');
  });
});

describe('dateAdd', () => {
  it('adds ChronoUnit amounts and formats the result', async () => {
    const base = "'2019-01-31T10:00:00Z'";
    expect(await r(`{{ ${base} | dateAdd(1, 'MONTHS', format='yyyy-MM-dd', timeZone='UTC') }}`)).toBe('2019-02-28');
    expect(await r(`{{ ${base} | dateAdd(-1, 'DAYS', format='yyyy-MM-dd', timeZone='UTC') }}`)).toBe('2019-01-30');
    expect(await r(`{{ ${base} | dateAdd(2, 'WEEKS', format='yyyy-MM-dd', timeZone='UTC') }}`)).toBe('2019-02-14');
    expect(await r(`{{ ${base} | dateAdd(1, 'YEARS', format='yyyy-MM-dd', timeZone='UTC') }}`)).toBe('2020-01-31');
    expect(await r(`{{ ${base} | dateAdd(90, 'MINUTES', format='HH:mm', timeZone='UTC') }}`)).toBe('11:30');
    expect(await r(`{{ ${base} | dateAdd(1500, 'MILLIS', format='HH:mm:ss.SSS', timeZone='UTC') }}`)).toBe('10:00:01.500');
    expect(await r(`{{ ${base} | dateAdd(-2, 'HOURS', timeZone='UTC') }}`)).toBe('2019-01-31T08:00:00.000000Z');
  });

  it('adds days on the local calendar across a DST change, hours on the instant', async () => {
    expect(await r("{{ '2019-03-30T12:00:00+01:00[Europe/Paris]' | dateAdd(1, 'DAYS', format='iso_date_time', timeZone='Europe/Paris') }}")).toBe(
      '2019-03-31T12:00:00+02:00[Europe/Paris]',
    );
    expect(await r("{{ '2019-03-30T12:00:00+01:00[Europe/Paris]' | dateAdd(24, 'HOURS', format='iso_date_time', timeZone='Europe/Paris') }}")).toBe(
      '2019-03-31T13:00:00+02:00[Europe/Paris]',
    );
  });

  it('rejects unknown units and missing amounts', async () => {
    expect(await failure("{{ trigger.date | dateAdd(1, 'DAY') }}")).toContain('No enum constant java.time.temporal.ChronoUnit.DAY');
    expect(await failure("{{ trigger.date | dateAdd(unit='DAYS') }}")).toContain("expects an argument 'amount'");
  });
});

describe('timestamps', () => {
  it('timestamp, timestampMilli, timestampMicro, timestampNano', async () => {
    expect(await renderTyped("{{ trigger.date | timestamp }}", vars)).toBe(1551430800);
    expect(await renderTyped("{{ '2019-03-01T09:00:00.5Z' | timestampMilli }}", vars)).toBe(1551430800500);
    expect(await r("{{ precise | timestampMicro }}|{{ precise | timestampNano }}")).toBe('1551430800123456|1551430800123456000');
    expect(await r("{{ local | timestamp(timeZone='Europe/Paris') }}")).toBe('1551427200');
  });
});
