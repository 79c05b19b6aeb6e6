/*
 * Reference driver for codecs/tests/g729_bcg729.rs: Debian's libbcg729
 * behind a file interface, so the Rust differential test needs no FFI
 * (our crates forbid unsafe code). The test compiles this file with the
 * system C compiler at test time and links -lbcg729.
 *
 *   bcg729_ref enc VAD IN.pcm OUT.frames [RESET]
 *   bcg729_ref dec IN.frames OUT.pcm
 *
 * VAD is 0 or 1 (Annex B off/on). With RESET > 0 the encoder is closed and
 * re-initialised every RESET frames, so the input is coded as independent
 * segments.
 *
 * PCM: 16-bit little-endian mono at 8 kHz, 80 samples per 10 ms frame (a
 * trailing partial frame is ignored).
 *
 * Frames file: one record per 10 ms frame, a length byte followed by that
 * many bitstream bytes:
 *   10    speech frame            -> bcg729Decoder(bs, 10, 0, 0, 0)
 *    2    Annex B SID frame       -> bcg729Decoder(bs, 2, 0, 1, 0)
 *    0    untransmitted (DTX)     -> bcg729Decoder(NULL, 0, 0, 1, 0)
 *  255    erased (lost) frame     -> bcg729Decoder(NULL, 0, 1, 1, 0)
 * The encoder writes lengths 10, 2 and 0 exactly as bcg729Encoder reports
 * them; 255 is only written by the test, to mark losses.
 *
 * Exit status: 0 on success, 2 on usage errors, 1 on I/O or format errors.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bcg729/decoder.h>
#include <bcg729/encoder.h>

#define FRAME 80

static int read_frame(FILE *in, int16_t pcm[FRAME])
{
	uint8_t raw[2 * FRAME];
	if (fread(raw, 1, sizeof raw, in) != sizeof raw)
		return 0;
	for (int i = 0; i < FRAME; i++)
		pcm[i] = (int16_t)(uint16_t)(raw[2 * i] | (raw[2 * i + 1] << 8));
	return 1;
}

static int write_frame(FILE *out, const int16_t pcm[FRAME])
{
	uint8_t raw[2 * FRAME];
	for (int i = 0; i < FRAME; i++) {
		uint16_t v = (uint16_t)pcm[i];
		raw[2 * i] = (uint8_t)(v & 0xFF);
		raw[2 * i + 1] = (uint8_t)(v >> 8);
	}
	return fwrite(raw, 1, sizeof raw, out) == sizeof raw;
}

static int encode(int vad, long reset, FILE *in, FILE *out)
{
	bcg729EncoderChannelContextStruct *ctx = initBcg729EncoderChannel((uint8_t)vad);
	if (ctx == NULL)
		return 1;
	int16_t pcm[FRAME];
	long frame = 0;
	while (read_frame(in, pcm)) {
		if (reset > 0 && frame > 0 && frame % reset == 0) {
			closeBcg729EncoderChannel(ctx);
			ctx = initBcg729EncoderChannel((uint8_t)vad);
			if (ctx == NULL)
				return 1;
		}
		frame++;
		uint8_t bits[10];
		uint8_t len = 0;
		bcg729Encoder(ctx, pcm, bits, &len);
		if (len != 0 && len != 2 && len != 10) {
			fprintf(stderr, "unexpected frame length %u\n", len);
			return 1;
		}
		if (fputc(len, out) == EOF || fwrite(bits, 1, len, out) != len)
			return 1;
	}
	closeBcg729EncoderChannel(ctx);
	return 0;
}

static int decode(FILE *in, FILE *out)
{
	bcg729DecoderChannelContextStruct *ctx = initBcg729DecoderChannel();
	if (ctx == NULL)
		return 1;
	int c;
	while ((c = fgetc(in)) != EOF) {
		uint8_t bits[10];
		int16_t pcm[FRAME];
		memset(pcm, 0, sizeof pcm);
		switch (c) {
		case 10:
		case 2:
			if (fread(bits, 1, (size_t)c, in) != (size_t)c) {
				fprintf(stderr, "truncated frame\n");
				return 1;
			}
			bcg729Decoder(ctx, bits, (uint8_t)c, 0, c == 2, 0, pcm);
			break;
		case 0:
			bcg729Decoder(ctx, NULL, 0, 0, 1, 0, pcm);
			break;
		case 255:
			bcg729Decoder(ctx, NULL, 0, 1, 1, 0, pcm);
			break;
		default:
			fprintf(stderr, "bad frame length byte %d\n", c);
			return 1;
		}
		if (!write_frame(out, pcm))
			return 1;
	}
	closeBcg729DecoderChannel(ctx);
	return 0;
}

int main(int argc, char **argv)
{
	int enc = (argc == 5 || argc == 6) && strcmp(argv[1], "enc") == 0;
	int dec = argc == 4 && strcmp(argv[1], "dec") == 0;
	if (!enc && !dec) {
		fprintf(stderr, "usage: %s enc VAD IN.pcm OUT.frames [RESET] | dec IN.frames OUT.pcm\n", argv[0]);
		return 2;
	}
	const char *in_path = enc ? argv[3] : argv[2];
	const char *out_path = enc ? argv[4] : argv[3];
	FILE *in = fopen(in_path, "rb");
	FILE *out = fopen(out_path, "wb");
	if (in == NULL || out == NULL) {
		perror("open");
		return 1;
	}
	long reset = argc == 6 ? strtol(argv[5], NULL, 10) : 0;
	int rc = enc ? encode(strcmp(argv[2], "1") == 0, reset, in, out) : decode(in, out);
	if (fclose(out) != 0)
		rc = 1;
	fclose(in);
	return rc;
}
