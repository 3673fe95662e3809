#pragma once
// Byte-level BPE machinery shared by BpeTokenizer (vocab.json + merges.txt) and HfTokenizer
// (tokenizer.json): GPT-2's byte-to-unicode map and the merge loop.
// A piece's UTF-8 bytes become printable stand-in characters (bytes that are visible Latin-1 map
// to themselves, the rest to U+0100 onwards, so a space shows as "Ġ"); then the lowest-ranked
// adjacent pair is merged again and again.
#include <string>
#include <unordered_map>
#include <vector>

namespace kvscope {

// "left right" (the two stand-in spellings, one space between) -> rank; lower ranks merge first.
using MergeRanks = std::unordered_map<std::string, int>;

// UTF-8 of the stand-in character of one byte: ' ' -> "Ġ", 'a' -> "a".
const std::string& byte_stand_in(unsigned char byte);

// Stand-in spelling of raw bytes, as vocabularies write them: " world" -> "Ġworld".
std::string stand_in_spelling(const std::string& bytes);

// Original bytes of a stand-in spelling; false when a character is not a stand-in.
bool bytes_of_spelling(const std::string& spelling, std::string& bytes);

// Stand-in symbols of one piece (raw bytes) after all merges ("Ġflies" -> {"Ġfl", "ies"} with a
// toy vocabulary). Same order as encoder.py's loop and Hugging Face's Word::merge_all.
std::vector<std::string> merge_bytes(const std::string& piece, const MergeRanks& ranks);

}  // namespace kvscope
