#include "audit/note.h"

#include "gtest/gtest.h"

namespace custos::audit {
namespace {

// The example of golang.org/x/mod/sumdb/note (also in C2SP signed-note's test vectors).
constexpr std::string_view kPeterVerifier =
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
constexpr std::string_view kPeterSigner =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
constexpr std::string_view kPeterText =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n";
constexpr std::string_view kPeterNote =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
    "\n"
    "\xE2\x80\x94 PeterNeumann "
    "x08go/ZJkuBS9UG/"
    "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

TEST(Note, ParsesAndReformatsTheGoReferenceKeys) {
  absl::StatusOr<VerifierKey> v = ParseVerifierKey(kPeterVerifier);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->name, "PeterNeumann");
  EXPECT_EQ(v->key_id, 0xc74f20a3u);
  EXPECT_EQ(FormatVerifierKey(*v), kPeterVerifier);
  absl::StatusOr<SignerKey> s = ParseSignerKey(kPeterSigner);  // Its base64 holds a '+'.
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(FormatSignerKey(*s), kPeterSigner);
  EXPECT_EQ(FormatVerifierKey(s->verifier), kPeterVerifier);
}

TEST(Note, SignsTheGoReferenceNoteByteForByte) {
  const SignerKey key = *ParseSignerKey(kPeterSigner);
  EXPECT_EQ(SignNote(kPeterText, key), kPeterNote);  // Ed25519 is deterministic.
  absl::StatusOr<std::string> text = OpenNote(kPeterNote, *ParseVerifierKey(kPeterVerifier));
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, kPeterText);
}

TEST(Note, RejectsEveryChangedByteOfASignedNote) {
  const VerifierKey key = *ParseVerifierKey(kPeterVerifier);
  const std::string note(kPeterNote);
  for (size_t i = 0; i < note.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = note;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      EXPECT_FALSE(OpenNote(bad, key).ok()) << "byte " << i << " bit " << bit;
    }
  }
}

TEST(Note, RejectsAnotherKeyAndMalformedKeys) {
  const SignerKey other = *GenerateSignerKey("PeterNeumann");
  EXPECT_FALSE(OpenNote(kPeterNote, other.verifier).ok());
  EXPECT_FALSE(
      ParseVerifierKey("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW").ok());
  EXPECT_FALSE(ParseVerifierKey("PeterNeumann+c74f20a3").ok());
  EXPECT_FALSE(GenerateSignerKey("has space").ok());
  EXPECT_FALSE(GenerateSignerKey("has+plus").ok());
}

TEST(Note, AcceptsWitnessSignaturesButRequiresOurs) {
  const SignerKey log = *GenerateSignerKey("example.org/log");
  const SignerKey witness = *GenerateSignerKey("witness.example");
  const std::string text = "example.org/log\n3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
  const std::string note = SignNote(text, log);
  const std::string cosigned = note + SignNote(text, witness).substr(text.size() + 1);
  EXPECT_TRUE(OpenNote(cosigned, log.verifier).ok());
  EXPECT_TRUE(OpenNote(cosigned, witness.verifier).ok());
  const std::string only_witness = SignNote(text, witness);
  EXPECT_FALSE(OpenNote(only_witness, log.verifier).ok());
}

TEST(Note, CheckpointRoundTripsAndIsStrict) {
  const SignerKey key = *GenerateSignerKey("custos.audit/test");
  Checkpoint c{"custos.audit/test", 1234, Sha256("root")};
  const std::string note = SignNote(FormatCheckpoint(c), key);
  absl::StatusOr<SignedCheckpoint> opened = OpenCheckpoint(note, key.verifier);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->checkpoint.size, 1234u);
  EXPECT_EQ(opened->checkpoint.root, c.root);
  EXPECT_FALSE(ParseCheckpoint("o\n01\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n").ok());
  EXPECT_FALSE(ParseCheckpoint("o\n1\nAAAA\n").ok());
  EXPECT_FALSE(ParseCheckpoint("o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").ok());
  // Non-canonical base64 (unused bits set) is refused, so a bit flip cannot hide there.
  EXPECT_FALSE(ParseCheckpoint("o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n").ok());
  // A checkpoint whose origin is not the key's name is refused.
  Checkpoint other{"someone.else", 1, Sha256("root")};
  EXPECT_FALSE(OpenCheckpoint(SignNote(FormatCheckpoint(other), key), key.verifier).ok());
}

}  // namespace
}  // namespace custos::audit
