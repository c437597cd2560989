using Fathom.Cli;

return await FathomCommand.Create().Parse(args).InvokeAsync();
