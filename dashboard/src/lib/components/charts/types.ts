export interface Bar {
  label: string;
  value: number;
  /** The value as shown (e.g. "19.99 USD", "95%"). */
  display: string;
  detail?: string;
}

export interface Series {
  name: string;
  /** SVG fill class of its columns, and the legend swatch's background class. */
  tone: string;
  swatch: string;
  values: number[];
}
