export interface Presence {
  online: boolean;
  since: number;
  connections: number;
}
