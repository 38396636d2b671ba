import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { ConfigError } from '../errors/index.js';

/** An extra CA file to trust inside the image: its file name and PEM text (one or more certificates). */
export interface CaFile {
  name: string;
  content: string;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Read the files named by `ca_certificates` (absolute paths). A missing or unreadable file is a ConfigError. */
export async function loadCaFiles(paths: readonly string[]): Promise<CaFile[]> {
  return Promise.all(
    paths.map(async (path) => {
      try {
        return { name: basename(path), content: await readFile(path, 'utf8') };
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new ConfigError(`ca_certificates: cannot read ${path}: ${reason}`, { cause: error });
      }
    }),
  );
}

/**
 * Split a CA file into its PEM certificates. update-ca-certificates and OpenSSL's hashed directory expect
 * one certificate per `.crt` file, while users usually point at bundles (e.g. the host's whole store).
 */
export function splitCertificates(file: CaFile): string[] {
  const certificates = file.content.replace(/\r\n/g, '\n').match(PEM_CERTIFICATE) ?? [];
  if (certificates.length === 0) {
    throw new ConfigError(`ca_certificates: ${file.name} contains no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  }
  return certificates.map((certificate) => `${certificate}\n`);
}
