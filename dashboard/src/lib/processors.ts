// The processors a merchant can configure and the credentials each one takes
// (the contract's POST /api/processors).

export interface CredentialField {
  name: string;
  label: string;
  placeholder: string;
}

export interface ProcessorSpec {
  id: string;
  name: string;
  credentials: CredentialField[];
}

export const PROCESSORS: readonly ProcessorSpec[] = [
  {
    id: 'stripe',
    name: 'Stripe',
    credentials: [
      { name: 'secretKey', label: 'Secret key', placeholder: 'sk_test_…' },
      { name: 'webhookSecret', label: 'Webhook secret', placeholder: 'whsec_…' },
    ],
  },
  {
    id: 'razorpay',
    name: 'Razorpay',
    credentials: [
      { name: 'keyId', label: 'Key ID', placeholder: 'rzp_test_…' },
      { name: 'keySecret', label: 'Key secret', placeholder: '' },
      { name: 'webhookSecret', label: 'Webhook secret', placeholder: '' },
    ],
  },
];

export const PROCESSOR_IDS: readonly string[] = PROCESSORS.map((p) => p.id);
