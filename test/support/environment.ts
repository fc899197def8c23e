/** Environment variables for a test: set some, and get back a function restoring the previous ones. */

/** Sets `env` on process.env (undefined removes a variable) and returns a function restoring the previous values. */
export function setEnvironment(env: Record<string, string | undefined>): () => void {
  const previous = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  const apply = (values: Record<string, string | undefined>): void => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) Reflect.deleteProperty(process.env, name);
      else process.env[name] = value;
    }
  };
  apply(env);
  return () => {
    apply(previous);
  };
}
