/** Minimal typings for the emulator packages that ship none (dynalite, s3rver). */
declare module "dynalite" {
  import type { Server } from "node:http";
  interface DynaliteOptions {
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    path?: string;
  }
  function dynalite(options?: DynaliteOptions): Server;
  export = dynalite;
}

declare module "s3rver" {
  import type { AddressInfo } from "node:net";
  import type { IncomingHttpHeaders, ServerResponse } from "node:http";
  interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory: string;
    resetOnClose?: boolean;
    allowMismatchedSignatures?: boolean;
    configureBuckets?: { name: string }[];
  }
  interface KoaContext {
    headers: IncomingHttpHeaders;
    /** The request path, still percent-encoded. */
    path: string;
    res: ServerResponse;
  }
  type Middleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;
  /** s3rver's filesystem store (lib/stores/filesystem.js), the parts the wrapper patches. */
  interface FilesystemStore {
    getResourcePath(bucket: string, key: string, resource: string): string;
    deleteObject(bucket: string, key: string): Promise<void>;
    /** The object's stored metadata with `etag` (quoted); throws when the key does not exist. */
    getMetadata(bucket: string, key: string): Promise<{ etag?: string }>;
    /** The object's bytes `start`..`end` (inclusive) as a stream; `null` when it does not exist. */
    getObject(
      bucket: string,
      key: string,
      options?: { start?: number; end?: number },
    ): Promise<{ content: NodeJS.ReadableStream | null } | null>;
    /** Stores one part of a multipart upload; its MD5 (hex). */
    putPart(
      bucket: string,
      uploadId: string,
      partNumber: number,
      content: NodeJS.ReadableStream,
    ): Promise<{ md5: string }>;
  }
  class S3rver {
    constructor(options: S3rverOptions);
    store: FilesystemStore;
    /** Koa's middleware stack (composed when the server starts). */
    middleware: Middleware[];
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
  }
  export = S3rver;
}

declare module "s3rver/lib/models/account" {
  interface AWSAccount {
    createKeyPair(accessKeyId: string, secretAccessKey: string): void;
  }
  export const DUMMY_ACCOUNT: AWSAccount;
}

declare module "s3rver/lib/models/error" {
  /** s3rver's error, which its error handler answers as S3's XML error with `status`. */
  class S3Error extends Error {
    constructor(code: string, message: string, detail?: Readonly<Record<string, string>>);
    code: string;
    status: number;
  }
  export = S3Error;
}
