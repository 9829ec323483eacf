/**
 * FAKE service account for tests: a fresh RSA key made here (node:crypto), and a key file whose
 * `token_uri` points at the local OAuth fake, so no credential and no request ever reaches Google.
 */
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';

export interface FakeServiceAccount {
  /** The key file as Google writes it (the value of `serviceAccount:`). */
  json: string;
  clientEmail: string;
  privateKeyId: string;
  projectId: string;
  /** What the OAuth fake verifies assertions with. */
  publicKey: KeyObject;
}

export function fakeServiceAccount(options: { tokenUri: string; projectId?: string; name?: string }): FakeServiceAccount {
  const projectId = options.projectId ?? 'baton-fake-project';
  const clientEmail = `${options.name ?? 'baton-tests'}@${projectId}.iam.gserviceaccount.com`;
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateKeyId = randomBytes(20).toString('hex');
  const keyFile = {
    type: 'service_account',
    project_id: projectId,
    private_key_id: privateKeyId,
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    client_email: clientEmail,
    client_id: '100000000000000000000',
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: options.tokenUri,
    auth_provider_x509_cert_url: 'https://www.googleapis.com/oauth2/v1/certs',
    client_x509_cert_url: `https://www.googleapis.com/robot/v1/metadata/x509/${encodeURIComponent(clientEmail)}`,
    universe_domain: 'googleapis.com',
  };
  return { json: JSON.stringify(keyFile, null, 2), clientEmail, privateKeyId, projectId, publicKey };
}
