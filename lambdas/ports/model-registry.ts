import type { JudgeScores } from '../training/gate.js';

export type ApprovalStatus = 'Approved' | 'Rejected' | 'PendingManualApproval';

export interface RegisteredModel {
  arn: string;
  version: number;
  status: ApprovalStatus;
  createdAt: string;
  scores: JudgeScores;
  /** Lineage: datasets, base model, jobs, hyperparameters, judge. */
  metadata: Record<string, string>;
  modelS3Uri?: string;
  /** The serving container recorded with the model. */
  image?: string;
  description?: string;
}

export interface ModelCandidate {
  modelS3Uri: string;
  metricsS3Uri: string;
  scores: JudgeScores;
  metadata: Record<string, string>;
  description: string;
}

/** Where trained models are registered with their lineage and scores, and approved or rejected. */
export interface ModelRegistry {
  register(candidate: ModelCandidate): Promise<string>;
  /** The newest approved model, if any. */
  approved(): Promise<RegisteredModel | undefined>;
  decide(arn: string, approve: boolean, reason: string): Promise<void>;
  /** Newest first. */
  list(limit?: number): Promise<RegisteredModel[]>;
}
