# Included by ctest after the Catch2 tests are discovered (see tests/CMakeLists.txt): the test cases
# of test_hf_tokenizer_reference.cpp need the files the fetch_hf_tokenizers fixture downloads (and
# GPT-2's, for the last one).
set_tests_properties("hf_tokenizer reference: Llama 3 tokenizer.json agrees with Hugging Face's tokenizers.js"
                     "hf_tokenizer reference: Qwen3 tokenizer.json agrees with Hugging Face's tokenizers.js"
                     "hf_tokenizer reference: Gemma 3 tokenizer.json agrees with Hugging Face's tokenizers.js"
                     PROPERTIES FIXTURES_REQUIRED hf_tokenizers)
set_tests_properties("hf_tokenizer reference: GPT-2's vocabulary as a ByteLevel tokenizer.json gives GPT-2's ids"
                     PROPERTIES FIXTURES_REQUIRED "hf_tokenizers;gpt2_vocab")
