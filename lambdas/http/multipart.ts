import busboy from 'busboy';
import { InvalidInputError } from '../domain/index.js';
import { BodyTooLargeError } from './contract.js';

export interface MultipartForm {
  /** Text fields sent before the file. */
  fields: Record<string, string>;
  file: { field: string; bytes: Buffer };
}

/**
 * A multipart/form-data body holding text fields and exactly one file, as a browser (or S3's POST
 * upload form) sends it. Sizes are bounded while parsing: a file over `maxFileBytes` is a 413.
 */
export function parseMultipart(
  contentType: string,
  body: Buffer,
  limits: { maxFileBytes: number },
): Promise<MultipartForm> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: { 'content-type': contentType },
        limits: { files: 1, fields: 10, fieldSize: 2048, fileSize: limits.maxFileBytes, parts: 12 },
      });
    } catch {
      reject(new InvalidInputError('the body must be multipart/form-data with a boundary', 'content-type'));
      return;
    }
    const fields: Record<string, string> = {};
    let file: MultipartForm['file'] | undefined;
    let failure: Error | undefined;
    parser.on('field', (name, value) => {
      fields[name] = value;
    });
    parser.on('file', (field, stream) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('limit', () => {
        failure = new BodyTooLargeError(
          `the file is over the ${String(limits.maxFileBytes)}-byte limit`,
          'file',
        );
      });
      stream.on('close', () => {
        file = { field, bytes: Buffer.concat(chunks) };
      });
    });
    parser.on('filesLimit', () => {
      failure ??= new InvalidInputError('send one file per upload', 'file');
    });
    parser.on('error', (error: Error) => {
      reject(new InvalidInputError(`the multipart body is malformed: ${error.message}`, 'body'));
    });
    parser.on('close', () => {
      if (failure) reject(failure);
      else if (!file) reject(new InvalidInputError('the upload holds no file', 'file'));
      else resolve({ fields, file });
    });
    parser.end(body);
  });
}
