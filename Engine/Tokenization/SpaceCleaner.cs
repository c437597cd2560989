namespace Fathom.Engine.Tokenization;

/// <summary>
/// llama.cpp's <c>clean_spaces</c> pass over decoded bytes (Hugging Face's clean_up_tokenization_spaces): drops the
/// space before <c>? ! . ,</c>, around a lone apostrophe, and before <c>'s 'm 're 've</c>.
/// </summary>
internal static class SpaceCleaner
{
    public static byte[] Clean(List<byte> input)
    {
        var text = input.ToArray();
        var total = text.Length;

        // First pass: " ?", " !", " .", " ," lose their space.
        var total1 = total;
        total = total > 0 ? 1 : 0;
        for (var i = 1; i < total1; i++)
        {
            var x = text[i];
            if (text[i - 1] == ' ' && x is (byte)'?' or (byte)'!' or (byte)'.' or (byte)',')
            {
                total--;
            }
            text[total++] = x;
        }

        // Second pass: " ' " becomes "'".
        var total2 = total;
        total = total > 0 ? 1 : 0;
        for (var i = 1; i < total2; i++)
        {
            var x = text[i];
            if (x == '\'' && i + 1 < total2 && text[i - 1] == ' ' && text[i + 1] == ' ')
            {
                total--;
                text[++i] = 0;
            }
            text[total++] = x;
        }

        // Third pass: " 's", " 'm", " 're", " 've" lose their space.
        var total3 = total;
        total = total > 0 ? 1 : 0;
        for (var i = 1; i < total3; i++)
        {
            var x = text[i];
            if (text[i - 1] == ' ' && x == '\'' && i + 1 < total3)
            {
                var x1 = text[i + 1];
                if (x1 is (byte)'s' or (byte)'m')
                {
                    total--;
                }
                else if (i + 2 < total3)
                {
                    var x2 = text[i + 2];
                    if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e'))
                    {
                        total--;
                    }
                }
            }
            text[total++] = x;
        }

        return text.AsSpan(0, total).ToArray();
    }
}
