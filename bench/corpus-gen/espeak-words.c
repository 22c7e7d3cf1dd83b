/*
 * espeak-words: synthesises one phrase with libespeak-ng and reports where each word starts in
 * the audio, as espeak-ng itself places it (its word events), for the corpus generator
 * (bench/corpus-gen/generate.ts), which compiles and runs it.
 *
 *   espeak-words VOICE RATE SAMPLES_FILE < phrase.txt
 *
 * VOICE is an espeak-ng voice name, optionally with a variant ("en-us", "en-gb+m3"); RATE is in
 * words per minute. The samples (mono, signed 16-bit, host byte order) go to SAMPLES_FILE; stdout
 * gets one fact per line, times in seconds from the first sample:
 *
 *   sample_rate HZ
 *   word TEXT_POSITION START   text position: 1-based character index of the word's first letter
 *   pause START END            a pause phoneme (or a run of them) that espeak-ng inserted
 *   end TIME                   the end of a clause; the last one ends the phrase
 *   samples COUNT
 */
#include <espeak-ng/speak_lib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static FILE *samples_file;
static long sample_count;
static int write_failed;
/* Start (ms) of the run of pause phonemes being read, or -1. */
static int pause_start = -1;

static int is_pause(const espeak_EVENT *e) { return e->id.string[0] == '_'; }

/* Called synchronously from espeak_Synth with each block of audio and the events inside it. */
static int on_audio(short *wav, int count, espeak_EVENT *events) {
  for (espeak_EVENT *e = events; e->type != espeakEVENT_LIST_TERMINATED; e++) {
    if (e->type == espeakEVENT_PHONEME) {
      /* espeak-ng pauses inside a clause too (before "and" in a long one): report each pause,
         from its first pause phoneme to the next sounding phoneme. */
      if (is_pause(e) && pause_start < 0) pause_start = e->audio_position;
      if (!is_pause(e) && pause_start >= 0) {
        printf("pause %.3f %.3f\n", pause_start / 1000.0, e->audio_position / 1000.0);
        pause_start = -1;
      }
    } else if (e->type == espeakEVENT_WORD) {
      printf("word %d %.3f\n", e->text_position, e->audio_position / 1000.0);
    } else if (e->type == espeakEVENT_END) {
      printf("end %.3f\n", e->audio_position / 1000.0);
      pause_start = -1; /* a pause at a clause's end is not inside the phrase */
    }
  }
  if (wav && count > 0) {
    if (fwrite(wav, sizeof(short), (size_t)count, samples_file) != (size_t)count) write_failed = 1;
    sample_count += count;
  }
  return 0; /* 0 = keep synthesising */
}

/*
 * espeak_SetVoiceByName matches voice file names ("en-us", "en-gb-scotland", "en"), not language
 * tags such as "en-gb" (whose file is "gmw/en"). For a tag, pick the first voice espeak-ng lists
 * for that language, skipping mbrola voices (their data is not installed), and keep the variant.
 */
static int select_voice(const char *requested) {
  if (espeak_SetVoiceByName(requested) == EE_OK) return 1;
  char language[64];
  const char *plus = strchr(requested, '+');
  size_t length = plus ? (size_t)(plus - requested) : strlen(requested);
  if (length == 0 || length >= sizeof language) return 0;
  memcpy(language, requested, length);
  language[length] = '\0';
  espeak_VOICE filter;
  memset(&filter, 0, sizeof filter);
  filter.languages = language;
  const espeak_VOICE **voices = espeak_ListVoices(&filter);
  for (int i = 0; voices && voices[i]; i++) {
    if (strncmp(voices[i]->identifier, "mb/", 3) == 0) continue;
    char name[256];
    snprintf(name, sizeof name, "%s%s", voices[i]->identifier, plus ? plus : "");
    return espeak_SetVoiceByName(name) == EE_OK;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: espeak-words VOICE RATE SAMPLES_FILE < phrase.txt\n");
    return 2;
  }
  static char text[8192];
  size_t text_length = fread(text, 1, sizeof text - 1, stdin);
  if (text_length == 0 || text_length == sizeof text - 1) {
    fprintf(stderr, "espeak-words: expected a phrase of 1 to %zu bytes on stdin\n", sizeof text - 2);
    return 2;
  }
  text[text_length] = '\0';

  int sample_rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, NULL, espeakINITIALIZE_PHONEME_EVENTS);
  if (sample_rate <= 0) {
    fprintf(stderr, "espeak-words: espeak-ng did not initialise (is espeak-ng-data installed?)\n");
    return 1;
  }
  if (!select_voice(argv[1])) {
    fprintf(stderr, "espeak-words: unknown espeak-ng voice \"%s\"\n", argv[1]);
    return 1;
  }
  espeak_SetParameter(espeakRATE, atoi(argv[2]), 0);
  samples_file = fopen(argv[3], "wb");
  if (!samples_file) {
    perror(argv[3]);
    return 1;
  }
  espeak_SetSynthCallback(on_audio);
  printf("sample_rate %d\n", sample_rate);
  espeak_ERROR status =
      espeak_Synth(text, text_length + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, NULL, NULL);
  if (status == EE_OK) status = espeak_Synchronize();
  if (fclose(samples_file) != 0) write_failed = 1;
  if (status != EE_OK || write_failed) {
    fprintf(stderr, "espeak-words: synthesis failed (%s)\n", write_failed ? "write error" : "espeak error");
    return 1;
  }
  printf("samples %ld\n", sample_count);
  espeak_Terminate();
  return 0;
}
