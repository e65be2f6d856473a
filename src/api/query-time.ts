import { PaymentsError } from '../domain/errors.ts';

// Instants in query strings. The schema's `date-time` format admits what Date or PostgreSQL
// cannot hold (a leap second, 23:59:60; year 0000): such a value is the client's mistake, a 400
// naming the parameter.

// Years 1 to 9999: what PostgreSQL's timestamptz and ISO 8601's four digits both hold (the
// format admits year 0000, which PostgreSQL refuses: a 500 the route fuzz found).
const firstYear = 1;
const lastYear = 9999;

export function queryInstant(value: string, param: string): Date {
  const instant = new Date(value);
  const year = instant.getUTCFullYear();
  if (Number.isNaN(instant.getTime()) || year < firstYear || year > lastYear) {
    throw new PaymentsError('parameter_invalid', `${param} is not an instant this API can represent.`, param);
  }
  return instant;
}

export function optionalQueryInstant(value: string | undefined, param: string): Date | undefined {
  return value === undefined ? undefined : queryInstant(value, param);
}
