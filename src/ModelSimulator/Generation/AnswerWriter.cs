namespace AgentOrchestrator.ModelSimulator.Generation;

/// <summary>
/// Turns a seeded random sequence into sentence-like tokens. A token is a word with its leading space
/// (none for the very first), so concatenating the tokens gives the answer text.
/// </summary>
internal static class AnswerWriter
{
    private const int MinSentenceWords = 6;
    private const int MaxSentenceWords = 14;

    /// <summary>Appends <paramref name="wordCount"/> generated words to <paramref name="tokens"/>.</summary>
    public static void AppendSentences(DeterministicRandom random, int wordCount, List<string> tokens)
    {
        int wordsLeftInSentence = random.NextInclusive(MinSentenceWords, MaxSentenceWords);
        bool startOfSentence = true;
        for (int i = 0; i < wordCount; i++)
        {
            string word = Vocabulary.Words[random.Next(Vocabulary.Words.Length)];
            if (startOfSentence)
            {
                word = char.ToUpperInvariant(word[0]) + word[1..];
            }

            wordsLeftInSentence--;
            bool endOfSentence = wordsLeftInSentence == 0 || i == wordCount - 1;
            string punctuation = endOfSentence ? "." : random.Next(10) == 0 ? "," : string.Empty;
            string space = tokens.Count == 0 ? string.Empty : " ";
            tokens.Add(space + word + punctuation);

            startOfSentence = endOfSentence;
            if (endOfSentence)
            {
                wordsLeftInSentence = random.NextInclusive(MinSentenceWords, MaxSentenceWords);
            }
        }
    }

    /// <summary>
    /// Splits fixed text into word tokens that keep their leading spaces, so that concatenating them gives
    /// back the text exactly.
    /// </summary>
    public static void AppendText(string text, List<string> tokens)
    {
        int start = 0;
        for (int i = 1; i <= text.Length; i++)
        {
            if (i == text.Length || (text[i] == ' ' && text[i - 1] != ' '))
            {
                tokens.Add(text[start..i]);
                start = i;
            }
        }
    }
}
