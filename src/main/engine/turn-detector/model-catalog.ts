/**
 * Where the Smart Turn v3 weights are published and what they must hash to.
 *
 * Smart Turn v3 (Pipecat / Daily) is BSD 2-Clause licensed: the Hugging Face model card of
 * pipecat-ai/smart-turn-v3 declares `license: bsd-2-clause`, and the GitHub README of
 * pipecat-ai/smart-turn says "This is a truly open model (BSD 2-clause license)". It is a
 * Whisper Tiny encoder with a linear classifier head; the CPU file is the int8-quantised ONNX.
 *
 * URLs are pinned to the Hugging Face commit that published v3.2
 * (f766f81d3cfdf7737ac64aad813d91bbfd56bf93, "Smart Turn v3.2", shown at
 * https://huggingface.co/pipecat-ai/smart-turn-v3/tree/f766f81d3cfdf7737ac64aad813d91bbfd56bf93),
 * so a later change on `main` cannot silently break the checksum. Hugging Face answers a
 * `resolve` URL with a redirect to its CDN; the store follows it.
 */

/** A downloadable turn model: where it comes from and how to recognise an intact copy. */
export interface TurnModelDescriptor {
  /** Stable id, used in logs and settings. */
  readonly id: string;
  /** Human name for the UI and error messages. */
  readonly name: string;
  /** File name in `<resourcesDir>/models/` and in the model cache. */
  readonly fileName: string;
  /** Published location. Redirects are followed. */
  readonly url: string;
  /** Lower-case hex SHA-256 of the file. Required: an unverifiable download is never used. */
  readonly sha256: string;
  /** Exact size in bytes, when known; a download of any other size is rejected. */
  readonly sizeBytes?: number;
  /** SPDX licence id of the weights. */
  readonly license: string;
}

const SMART_TURN_V3_COMMIT = 'f766f81d3cfdf7737ac64aad813d91bbfd56bf93';
const SMART_TURN_V3_BASE = `https://huggingface.co/pipecat-ai/smart-turn-v3/resolve/${SMART_TURN_V3_COMMIT}`;

/**
 * Smart Turn v3.2, CPU (int8) variant: 8.68 MB.
 *
 * SHA-256 from the Hugging Face file page
 * https://huggingface.co/pipecat-ai/smart-turn-v3/blob/main/smart-turn-v3.2-cpu.onnx
 * ("SHA256: 2bb02631…967e4f", last changed by commit f766f81 "Smart Turn v3.2").
 * The exact size, 8,679,182 bytes, is from the archival mirror
 * https://huggingface.co/rishabhf/smart-turn-v3-archive, which states the same SHA-256 and the
 * same upstream commit, and agrees with the 8.68 MB Hugging Face shows.
 */
export const SMART_TURN_V3_2_CPU: TurnModelDescriptor = {
  id: 'smart-turn-v3.2-cpu',
  name: 'Smart Turn v3.2',
  fileName: 'smart-turn-v3.2-cpu.onnx',
  url: `${SMART_TURN_V3_BASE}/smart-turn-v3.2-cpu.onnx`,
  sha256: '2bb026316b14a660486a75b1733cd3fbab8c2fd0314dc9af7be49f8cca967e4f',
  sizeBytes: 8_679_182,
  license: 'BSD-2-Clause',
};

/**
 * Smart Turn v3.1, CPU (int8) variant: 8.68 MB, same inputs and outputs as v3.2.
 *
 * SHA-256 from the Hugging Face file page
 * https://huggingface.co/pipecat-ai/smart-turn-v3/blob/main/smart-turn-v3.1-cpu.onnx
 * ("SHA256: fb68d55c…0c6594", commit 16c8130 "Smart Turn v3.1"; unchanged at the v3.2 commit).
 * No source gave its exact size, so only the checksum guards it.
 */
export const SMART_TURN_V3_1_CPU: TurnModelDescriptor = {
  id: 'smart-turn-v3.1-cpu',
  name: 'Smart Turn v3.1',
  fileName: 'smart-turn-v3.1-cpu.onnx',
  url: `${SMART_TURN_V3_BASE}/smart-turn-v3.1-cpu.onnx`,
  sha256: 'fb68d55c2d542ce79e44b12013bfd571e90df8594ab096d757198e851b0c6594',
  license: 'BSD-2-Clause',
};

/** The model Cue uses for audio turn detection. */
export const DEFAULT_TURN_MODEL: TurnModelDescriptor = SMART_TURN_V3_2_CPU;
