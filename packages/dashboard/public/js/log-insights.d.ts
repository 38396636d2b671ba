// Types for the unit test (src/log-insights.test.ts), which runs the page's own module.
export interface Todo {
  text: string;
  status: string;
}
export declare class LogInsights {
  todos: Todo[];
  denials: string[];
  denialSummary: string | null;
  add(text: string): boolean;
  progress(): { done: number; total: number };
}
