import { describe, expect, it } from 'vitest';
import { JdbcUrlError, parsePostgresJdbcUrl, redactJdbcUrl } from './jdbc-url.ts';

describe('parsePostgresJdbcUrl', () => {
  it('reads host, port, database and parameters', () => {
    expect(parsePostgresJdbcUrl('jdbc:postgresql://postgres_zoomcamp:5432/ny_taxi')).toEqual({
      hosts: [{ host: 'postgres_zoomcamp', port: 5432 }], database: 'ny_taxi', params: {},
    });
    expect(parsePostgresJdbcUrl('jdbc:postgresql://db.example:6543/app?user=root&password=p%40ss&sslmode=require')).toEqual({
      hosts: [{ host: 'db.example', port: 6543 }], database: 'app', params: { user: 'root', password: 'p@ss', sslmode: 'require' },
    });
  });

  it('defaults the port, allows no database, IPv6 and several hosts', () => {
    expect(parsePostgresJdbcUrl('jdbc:postgresql://localhost/')).toMatchObject({ hosts: [{ host: 'localhost', port: 5432 }], database: '' });
    expect(parsePostgresJdbcUrl('jdbc:postgresql://127.0.0.1:56982/')).toMatchObject({ hosts: [{ host: '127.0.0.1', port: 56982 }], database: '' });
    expect(parsePostgresJdbcUrl('jdbc:postgresql://[::1]:5740/accounting').hosts).toEqual([{ host: '::1', port: 5740 }]);
    expect(parsePostgresJdbcUrl('jdbc:postgresql://h1:5432,h2:5433/db').hosts).toEqual([{ host: 'h1', port: 5432 }, { host: 'h2', port: 5433 }]);
    expect(parsePostgresJdbcUrl('jdbc:postgresql:mydb')).toMatchObject({ hosts: [{ host: 'localhost', port: 5432 }], database: 'mydb' });
  });

  it('refuses what is not a PostgreSQL JDBC url, naming it without its password', () => {
    const bad = ['postgres://u@h/db', 'jdbc:mysql://h/db', 'jdbc:postgresql://', 'jdbc:postgresql://h:99999/db', 'jdbc:postgresql://u:p@h/db'];
    for (const url of bad) expect(() => parsePostgresJdbcUrl(url), url).toThrow(JdbcUrlError);
    expect(() => parsePostgresJdbcUrl('jdbc:postgresql://h:x/db?password=secret')).toThrow(
      "invalid PostgreSQL JDBC url 'jdbc:postgresql://h:x/db?password=***': bad host 'h:x'",
    );
    expect(redactJdbcUrl('jdbc:postgresql://h/db?user=a&password=s3cret&ssl=true')).toBe('jdbc:postgresql://h/db?user=a&password=***&ssl=true');
  });
});
