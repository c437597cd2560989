using System.Globalization;
using System.Runtime.CompilerServices;

namespace Fathom.Engine.Templates.Jinja;

/// <summary>
/// The running account of one render against its <see cref="ChatTemplateLimits"/>. The interpreter's helpers are
/// static and called from deep inside filters and operators, so the render's budget is ambient: <see cref="Enter"/>
/// makes it the thread's current one (rendering is synchronous, so the thread is the render). Outside a render
/// (helpers called directly) the default limits apply with no step counting.
/// </summary>
internal sealed class JinjaBudget
{
    /// <summary>Units of bulk work (characters or items produced or scanned) that cost one step.</summary>
    public const int UnitsPerStep = 1024;

    [ThreadStatic]
    private static JinjaBudget? t_current;

    private static readonly JinjaBudget Unmetered = new(ChatTemplateLimits.Default, metered: false);

    private readonly bool _metered;
    private long _steps;
    private long _units;

    private JinjaBudget(ChatTemplateLimits limits, bool metered)
    {
        Limits = limits;
        _metered = metered;
    }

    /// <summary>The budget of the render running on this thread, else an unmetered one with the default limits.</summary>
    public static JinjaBudget Current => t_current ?? Unmetered;

    public ChatTemplateLimits Limits { get; }

    /// <summary>Starts a render's account and makes it current until the returned scope is disposed.</summary>
    public static Scope Enter(ChatTemplateLimits limits)
    {
        JinjaBudget? previous = t_current;
        t_current = new JinjaBudget(limits, metered: true);
        return new Scope(previous);
    }

    /// <summary>One step: a loop iteration or a call.</summary>
    public void Step()
    {
        if (_metered && ++_steps > Limits.MaxSteps)
            ThrowSteps();
    }

    /// <summary>Bulk work: <paramref name="units"/> characters or items produced or scanned.</summary>
    public void Charge(long units)
    {
        if (!_metered || units <= 0)
            return;
        _units += units;
        if (_units < UnitsPerStep)
            return;
        _steps += _units / UnitsPerStep;
        _units %= UnitsPerStep;
        if (_steps > Limits.MaxSteps)
            ThrowSteps();
    }

    /// <summary>Checks a string about to be built (before it is allocated) and charges for building it.</summary>
    public void String(long length)
    {
        Growing(length);
        Charge(length);
    }

    /// <summary>
    /// Checks the length of a string still being built, without charging: a builder checked as it grows is
    /// charged once, for its final length (see <see cref="Charge"/>).
    /// </summary>
    public void Growing(long length)
    {
        if (length > Limits.MaxStringLength)
        {
            throw new ChatTemplateLimitException("string length",
                $"chat template exceeded the string length limit of {Format(Limits.MaxStringLength)} characters");
        }
    }

    /// <summary>Checks a list about to be built (before it is allocated) and charges for building it.</summary>
    public void List(long count)
    {
        if (count > Limits.MaxListLength)
        {
            throw new ChatTemplateLimitException("list length",
                $"chat template exceeded the list length limit of {Format(Limits.MaxListLength)} items");
        }

        Charge(count);
    }

    /// <summary>Checks the output written so far.</summary>
    public void Output(long length)
    {
        if (length > Limits.MaxOutputLength)
        {
            throw new ChatTemplateLimitException("output",
                $"chat template exceeded the output limit of {Format(Limits.MaxOutputLength)} characters");
        }
    }

    /// <summary>
    /// Checks a nesting depth, and that the thread has stack left for one more level: a stack overflow cannot be
    /// caught in .NET, it ends the process.
    /// </summary>
    public void Depth(int depth)
    {
        if (depth > Limits.MaxDepth || !RuntimeHelpers.TryEnsureSufficientExecutionStack())
            throw DepthExceeded(Limits.MaxDepth);
    }

    /// <summary>Checks that the thread has stack left for another level of the interpreter's recursion.</summary>
    public static void EnsureStack()
    {
        if (!RuntimeHelpers.TryEnsureSufficientExecutionStack())
            throw new ChatTemplateLimitException("depth", "chat template exceeded the nesting depth limit: the thread's stack is nearly full");
    }

    public static ChatTemplateLimitException DepthExceeded(int maxDepth) =>
        new("depth", $"chat template exceeded the nesting depth limit of {Format(maxDepth)}");

    private void ThrowSteps() =>
        throw new ChatTemplateLimitException("step", $"chat template exceeded the step limit of {Format(Limits.MaxSteps)}");

    private static string Format(int value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>Restores the budget that was current before <see cref="Enter"/>.</summary>
    internal readonly struct Scope(JinjaBudget? previous) : IDisposable
    {
        public void Dispose() => t_current = previous;
    }
}
