import { PaymentsError } from '../domain/errors.ts';

// Instants in query strings. The schema's `date-time` format admits what Date cannot hold (a
// leap second, 23:59:60): such a value is the client's mistake, a 400 naming the parameter.

export function queryInstant(value: string, param: string): Date {
  const instant = new Date(value);
  if (Number.isNaN(instant.getTime())) {
    throw new PaymentsError('parameter_invalid', `${param} is not an instant this API can represent.`, param);
  }
  return instant;
}

export function optionalQueryInstant(value: string | undefined, param: string): Date | undefined {
  return value === undefined ? undefined : queryInstant(value, param);
}
