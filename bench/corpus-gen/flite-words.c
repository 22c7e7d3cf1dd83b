/*
 * flite-words: synthesises one phrase with CMU flite (libflite) and reports each input token's
 * start and end in the audio, as flite itself timed it, for the corpus generator
 * (bench/corpus-gen/generate.ts), which compiles and runs it.
 *
 *   flite-words VOICE DURATION_STRETCH SAMPLES_FILE < phrase.txt
 *
 * VOICE is one of slt, rms, awb, kal16 (the cmu_us_* voices); DURATION_STRETCH scales every
 * segment's duration (1 = the voice's own speed, above 1 = slower). The samples (mono, signed
 * 16-bit, host byte order) go to SAMPLES_FILE; stdout gets one fact per line:
 *
 *   sample_rate HZ
 *   token START_SECONDS END_SECONDS NAME   one line per input token, in order
 *   pause START_SECONDS END_SECONDS        a pause segment between two words
 *   samples COUNT
 */
#include <flite/flite.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

cst_voice *register_cmu_us_slt(const char *voxdir);
cst_voice *register_cmu_us_rms(const char *voxdir);
cst_voice *register_cmu_us_awb(const char *voxdir);
cst_voice *register_cmu_us_kal16(const char *voxdir);

static cst_voice *voice_named(const char *name) {
  if (strcmp(name, "slt") == 0) return register_cmu_us_slt(NULL);
  if (strcmp(name, "rms") == 0) return register_cmu_us_rms(NULL);
  if (strcmp(name, "awb") == 0) return register_cmu_us_awb(NULL);
  if (strcmp(name, "kal16") == 0) return register_cmu_us_kal16(NULL);
  return NULL;
}

/* A segment's start is the end of the segment before it in the Segment relation (or 0). */
static float segment_start(const cst_item *segment) {
  const cst_item *previous = item_prev(item_as(segment, "Segment"));
  return previous ? item_feat_float(previous, "end") : 0.0f;
}

/*
 * The words a token became are its daughters in the Token relation ("patel's" becomes "patel"
 * and "'s"). Each word reaches its segments through SylStructure: word -> syllables -> segments.
 * The token spans from the first segment of its first word to the end of the last segment of its
 * last word. Returns 0 if the token produced no spoken word.
 */
static int token_span(const cst_item *token, float *start, float *end) {
  const cst_item *first_word = item_daughter(token);
  const cst_item *last_word = item_last_daughter(token);
  if (!first_word || !last_word) return 0;
  const cst_item *first_syllable = item_daughter(item_as(first_word, "SylStructure"));
  const cst_item *last_syllable = item_last_daughter(item_as(last_word, "SylStructure"));
  if (!first_syllable || !last_syllable) return 0;
  const cst_item *first_segment = item_daughter(first_syllable);
  const cst_item *last_segment = item_last_daughter(last_syllable);
  if (!first_segment || !last_segment) return 0;
  *start = segment_start(first_segment);
  *end = item_feat_float(last_segment, "end");
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: flite-words VOICE DURATION_STRETCH SAMPLES_FILE < phrase.txt\n");
    return 2;
  }
  static char text[8192];
  size_t text_length = fread(text, 1, sizeof text - 1, stdin);
  if (text_length == 0 || text_length == sizeof text - 1) {
    fprintf(stderr, "flite-words: expected a phrase of 1 to %zu bytes on stdin\n", sizeof text - 2);
    return 2;
  }
  text[text_length] = '\0';

  flite_init();
  cst_voice *voice = voice_named(argv[1]);
  if (!voice) {
    fprintf(stderr, "flite-words: unknown flite voice \"%s\" (slt, rms, awb or kal16)\n", argv[1]);
    return 1;
  }
  feat_set_float(voice->features, "duration_stretch", (float)atof(argv[2]));
  cst_utterance *utterance = flite_synth_text(text, voice);
  cst_wave *wave = utterance ? utt_wave(utterance) : NULL;
  if (!wave || wave->num_channels != 1) {
    fprintf(stderr, "flite-words: synthesis failed\n");
    return 1;
  }

  printf("sample_rate %d\n", wave->sample_rate);
  for (cst_item *token = relation_head(utt_relation(utterance, "Token")); token; token = item_next(token)) {
    float start, end;
    if (token_span(token, &start, &end)) printf("token %.4f %.4f %s\n", start, end, item_name(token));
    else printf("token - - %s\n", item_name(token));
  }

  /* flite may put a pause between words of a long phrase (its phrasing model). */
  for (cst_item *segment = relation_head(utt_relation(utterance, "Segment")); segment; segment = item_next(segment)) {
    if (strcmp(item_name(segment), "pau") == 0 && item_prev(segment) && item_next(segment))
      printf("pause %.4f %.4f\n", segment_start(segment), item_feat_float(segment, "end"));
  }

  FILE *samples_file = fopen(argv[3], "wb");
  if (!samples_file) {
    perror(argv[3]);
    return 1;
  }
  size_t count = (size_t)wave->num_samples;
  int failed = fwrite(wave->samples, sizeof(short), count, samples_file) != count;
  if (fclose(samples_file) != 0 || failed) {
    fprintf(stderr, "flite-words: could not write %s\n", argv[3]);
    return 1;
  }
  printf("samples %d\n", wave->num_samples);
  delete_utterance(utterance);
  return 0;
}
