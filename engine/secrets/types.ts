/** Where `secret('NAME')` looks values up. */
export interface SecretStore {
  get(name: string): Promise<string | undefined>;
}
