/**
 * A small React wrapper around ECharts, with only the chart types and
 * components the console draws registered (echarts/core), so the bundle
 * carries nothing else. Drawn as SVG: crisp at any zoom, printable, and no
 * font is fetched (the system sans-serif).
 *
 * Every chart is a labelled image (role="img", aria-label) with ECharts'
 * own aria description, and the page puts the same figures in a table next
 * to it, whose rows link where the chart's elements do.
 */
import {
  BarChart,
  HeatmapChart,
  LineChart,
  type BarSeriesOption,
  type HeatmapSeriesOption,
  type LineSeriesOption,
} from 'echarts/charts';
import {
  AriaComponent,
  GridComponent,
  LegendComponent,
  MarkLineComponent,
  TooltipComponent,
  type AriaComponentOption,
  type GridComponentOption,
  type LegendComponentOption,
  type MarkLineComponentOption,
  type TooltipComponentOption,
} from 'echarts/components';
import * as echarts from 'echarts/core';
import type { ComposeOption, ECElementEvent } from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'react';

echarts.use([
  BarChart,
  HeatmapChart,
  LineChart,
  AriaComponent,
  GridComponent,
  LegendComponent,
  MarkLineComponent,
  TooltipComponent,
  SVGRenderer,
]);

export type ChartOption = ComposeOption<
  | BarSeriesOption
  | HeatmapSeriesOption
  | LineSeriesOption
  | AriaComponentOption
  | GridComponentOption
  | LegendComponentOption
  | MarkLineComponentOption
  | TooltipComponentOption
>;

export type ChartClick = Pick<ECElementEvent, 'seriesIndex' | 'dataIndex' | 'data' | 'name' | 'value'>;

/**
 * Text and axis colours dark enough for 4.5:1 on white (the contrast axe-core
 * checks on the page's text), and a palette whose neighbours differ in
 * lightness as well as hue.
 */
export const CHART_TEXT = '#262626';
export const PALETTE = ['#0a4fb5', '#c2410c', '#15803d', '#7e22ce', '#a16207', '#0e7490', '#be123c', '#4b5563'];

export function EChart({
  option,
  label,
  height = 320,
  testId,
  onClick,
}: {
  option: ChartOption;
  /** What the chart shows, for screen readers (and the tests). */
  label: string;
  height?: number;
  testId?: string;
  onClick?: (event: ChartClick) => void;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);
  const clickRef = useRef(onClick);
  clickRef.current = onClick;

  useEffect(() => {
    const instance = echarts.init(ref.current!, undefined, { renderer: 'svg' });
    chart.current = instance;
    instance.on('click', (event) => clickRef.current?.(event as ECElementEvent));
    const resize = new ResizeObserver(() => instance.resize());
    resize.observe(ref.current!);
    return () => {
      resize.disconnect();
      instance.dispose();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    chart.current?.setOption(
      {
        color: PALETTE,
        textStyle: { color: CHART_TEXT, fontFamily: 'sans-serif' },
        aria: { enabled: true, label: { enabled: true, description: label } },
        animation: false,
        ...option,
      },
      { notMerge: true },
    );
  }, [option, label]);

  return (
    <div
      ref={ref}
      role="img"
      aria-label={label}
      data-testid={testId}
      style={{ width: '100%', height, cursor: onClick ? 'pointer' : undefined }}
    />
  );
}
