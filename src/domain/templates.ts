/** The seed's decomposition templates (DESIGN §4). Dependencies are plan indexes, resolved atomically by addTasks. */
import type { DecomposeStrategy, TaskSpec } from './schemas';

export function templateTasks(strategy: DecomposeStrategy, goalName: string, goalDescription = ''): TaskSpec[] {
  const about = goalDescription ? `\n\nGoal: ${goalName}\n${goalDescription}` : `\n\nGoal: ${goalName}`;
  switch (strategy) {
    case 'sequential':
      return [
        `Research requirements for ${goalName}`,
        `Plan approach for ${goalName}`,
        `Implement ${goalName}`,
        `Test ${goalName}`,
        `Document ${goalName}`,
      ].map((title, i) => ({
        title,
        description: `Step ${i + 1} of 5 (sequential).${about}`,
        priority: 10 - i,
        dependencies: i === 0 ? [] : [i - 1],
      }));
    case 'parallel':
      return [`Backend work for ${goalName}`, `Frontend work for ${goalName}`, `Testing for ${goalName}`].map(
        (title) => ({
          title,
          description: `Independent workstream (parallel).${about}`,
          priority: 5,
          dependencies: [],
        }),
      );
    case 'hierarchical':
      return ['Foundation', 'Core implementation', 'Integration', 'Optimization'].map((phase, i) => ({
        title: `Phase ${i + 1}: ${phase}`,
        description: `Phase ${i + 1} of 4 (hierarchical) for ${goalName}.${about}`,
        priority: 10 - i,
        dependencies: i === 0 ? [] : [i - 1],
      }));
  }
}
