import contentType from 'content-type';
import { BadUserInputError } from '../common/errors.js';

/**
 * A webhook body as text, once its signature has been checked over the bytes: decoded by
 * the charset its Content-Type names (older platforms send GBK), UTF-8 when it names none.
 * Bytes that are not valid in that charset are refused rather than stored garbled.
 */
export function decodeBody(bytes: Buffer, header: string | undefined): string {
  let charset = 'utf-8';
  try {
    if (header) charset = contentType.parse(header).parameters.charset ?? charset;
  } catch {
    // A Content-Type the parser cannot read names no charset: UTF-8, as before.
  }
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(charset, { fatal: true });
  } catch {
    throw new BadUserInputError(`The body's charset "${charset}" is not supported.`, 'content-type');
  }
  try {
    return decoder.decode(bytes);
  } catch {
    throw new BadUserInputError(`The body is not valid ${charset}.`, 'content-type');
  }
}
