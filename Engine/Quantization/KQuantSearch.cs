namespace Fathom.Engine.Quantization;

/// <summary>
/// The scale searches of llama.cpp's reference k-quant quantizers, reimplemented so that our files hold the bytes
/// llama.cpp would write: an asymmetric (scale, min) least-squares search for Q4_K and a symmetric scale search for
/// Q6_K. All arithmetic is single precision, in the same order, because the search's choices depend on rounding.
/// </summary>
internal static class KQuantSearch
{
    /// <summary>Smallest group maximum treated as non-zero.</summary>
    public const float GroupMaxEps = 1e-15f;

    /// <summary>Round half to even, as ggml's nearest_int does for the magnitudes it sees.</summary>
    public static int NearestInt(float value) => (int)MathF.Round(value, MidpointRounding.ToEven);

    /// <summary>
    /// Fits x ≈ scale·L − min with L in [0, nmax], weighted squared error, trying nstep+1 trial inverse scales
    /// (rmin + rdelta·i + nmax)/(max − min). Returns the scale; <paramref name="theMin"/> gets the (positive) min.
    /// </summary>
    public static float MakeQkx2Quants(
        int nmax, ReadOnlySpan<float> x, ReadOnlySpan<float> weights, Span<byte> levels, out float theMin,
        Span<byte> scratch, float rmin, float rdelta, int nstep)
    {
        var n = x.Length;
        var min = x[0];
        var max = x[0];
        var sumW = weights[0];
        var sumX = sumW * x[0];
        for (var i = 1; i < n; i++)
        {
            if (x[i] < min)
            {
                min = x[i];
            }

            if (x[i] > max)
            {
                max = x[i];
            }

            var w = weights[i];
            sumW += w;
            sumX += w * x[i];
        }

        if (min > 0)
        {
            min = 0;
        }

        if (max == min)
        {
            levels[..n].Clear();
            theMin = -min;
            return 0;
        }

        var iscale = nmax / (max - min);
        var scale = 1 / iscale;
        float bestError = 0;
        for (var i = 0; i < n; i++)
        {
            var l = Math.Clamp(NearestInt(iscale * (x[i] - min)), 0, nmax);
            levels[i] = (byte)l;
            var diff = (scale * l) + min - x[i];
            bestError += weights[i] * (diff * diff);
        }

        for (var step = 0; step <= nstep; step++)
        {
            iscale = (rmin + (rdelta * step) + nmax) / (max - min);
            float sumL = 0, sumL2 = 0, sumXl = 0;
            for (var i = 0; i < n; i++)
            {
                var l = Math.Clamp(NearestInt(iscale * (x[i] - min)), 0, nmax);
                scratch[i] = (byte)l;
                var w = weights[i];
                sumL += w * l;
                sumL2 += w * l * l;
                sumXl += w * l * x[i];
            }

            var det = (sumW * sumL2) - (sumL * sumL);
            if (det > 0)
            {
                var thisScale = ((sumW * sumXl) - (sumX * sumL)) / det;
                var thisMin = ((sumL2 * sumX) - (sumL * sumXl)) / det;
                if (thisMin > 0)
                {
                    thisMin = 0;
                    thisScale = sumXl / sumL2;
                }

                float error = 0;
                for (var i = 0; i < n; i++)
                {
                    var diff = (thisScale * scratch[i]) + thisMin - x[i];
                    error += weights[i] * (diff * diff);
                }

                if (error < bestError)
                {
                    scratch[..n].CopyTo(levels);
                    bestError = error;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }

        theMin = -min;
        return scale;
    }

    /// <summary>
    /// Fits x ≈ scale·(L − nmax) with L in [0, 2·nmax), weights x² (llama.cpp's rmse_type 1), trying inverse
    /// scales −(nmax + 0.1·i)/max for i in −9..9. Returns the scale (its sign follows the largest-magnitude value).
    /// </summary>
    public static float MakeQxQuants(int nmax, ReadOnlySpan<float> x, Span<byte> levels)
    {
        var n = x.Length;
        float max = 0, amax = 0;
        for (var i = 0; i < n; i++)
        {
            var ax = MathF.Abs(x[i]);
            if (ax > amax)
            {
                amax = ax;
                max = x[i];
            }
        }

        if (amax < GroupMaxEps)
        {
            levels[..n].Clear();
            return 0;
        }

        var iscale = -nmax / max;
        float sumLx = 0, sumL2 = 0;
        for (var i = 0; i < n; i++)
        {
            var l = Math.Clamp(NearestInt(iscale * x[i]), -nmax, nmax - 1);
            levels[i] = (byte)(l + nmax);
            var w = x[i] * x[i];
            sumLx += w * x[i] * l;
            sumL2 += w * l * l;
        }

        var scale = sumL2 != 0 ? sumLx / sumL2 : 0f;
        var best = scale * sumLx;
        for (var step = -9; step <= 9; step++)
        {
            if (step == 0)
            {
                continue;
            }

            iscale = -(nmax + (0.1f * step)) / max;
            sumLx = 0;
            sumL2 = 0;
            for (var i = 0; i < n; i++)
            {
                var l = Math.Clamp(NearestInt(iscale * x[i]), -nmax, nmax - 1);
                var w = x[i] * x[i];
                sumLx += w * x[i] * l;
                sumL2 += w * l * l;
            }

            if (sumL2 > 0 && sumLx * sumLx > best * sumL2)
            {
                for (var i = 0; i < n; i++)
                {
                    levels[i] = (byte)(nmax + Math.Clamp(NearestInt(iscale * x[i]), -nmax, nmax - 1));
                }

                scale = sumLx / sumL2;
                best = scale * sumLx;
            }
        }

        return scale;
    }
}
