<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>JobSupport</name>
    <message>
        <source>%1 GB</source>
        <translation>%1 GB</translation>
    </message>
    <message>
        <source>%1 MB</source>
        <translation>%1 MB</translation>
    </message>
    <message>
        <source>%1 s</source>
        <translation>%1 秒</translation>
    </message>
    <message>
        <source>%1 min</source>
        <translation>%1 分钟</translation>
    </message>
    <message>
        <source>%1 h</source>
        <translation>%1 小时</translation>
    </message>
</context>
<context>
    <name>lowbit::AnalyzePage</name>
    <message>
        <source>Calibration Text</source>
        <translation>校准文本</translation>
    </message>
    <message>
        <source>Text files (*.txt);;All files (*)</source>
        <translation>文本文件 (*.txt);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Calibration</source>
        <translation>校准</translation>
    </message>
    <message>
        <source>Views</source>
        <translation>视图</translation>
    </message>
    <message>
        <source>Text:</source>
        <translation>文本：</translation>
    </message>
    <message>
        <source>Samples:</source>
        <translation>样本数：</translation>
    </message>
    <message>
        <source>Context:</source>
        <translation>上下文：</translation>
    </message>
    <message>
        <source>Seed:</source>
        <translation>随机种子：</translation>
    </message>
    <message>
        <source>a text file</source>
        <translation>一个文本文件</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>Hessians at full precision and at 2, 3 and 4 bits</source>
        <translation>全精度及 2、3、4 位下的 Hessian 矩阵</translation>
    </message>
    <message>
        <source>Scale Hessian (blocks × blocks)</source>
        <translation>缩放 Hessian（块 × 块）</translation>
    </message>
    <message>
        <source>Scale-loss landscape of two blocks</source>
        <translation>两个块的缩放-损失地形图</translation>
    </message>
    <message>
        <source>AWQ α and clip-ratio curves</source>
        <translation>AWQ α 与截断比曲线</translation>
    </message>
    <message>
        <source>Weight and activation outliers</source>
        <translation>权重与激活离群值</translation>
    </message>
    <message>
        <source>Landscape points per axis:</source>
        <translation>地形图每轴点数：</translation>
    </message>
    <message>
        <source>Analyze</source>
        <translation>分析</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Open a model first.</source>
        <translation>请先打开一个模型。</translation>
    </message>
    <message>
        <source>An analysis is already running.</source>
        <translation>已有一个分析正在运行。</translation>
    </message>
    <message>
        <source>Choose at least one view.</source>
        <translation>请至少选择一个视图。</translation>
    </message>
    <message>
        <source>Choose a calibration text file.</source>
        <translation>请选择一个校准文本文件。</translation>
    </message>
    <message>
        <source>The calibration file %1 does not exist.</source>
        <translation>校准文件 %1 不存在。</translation>
    </message>
    <message>
        <source>Cannot create the folder for analyses %1.</source>
        <translation>无法创建分析结果文件夹 %1。</translation>
    </message>
    <message>
        <source>Analyze %1</source>
        <translation>分析 %1</translation>
    </message>
    <message>
        <source>Analyzing %1 calibration windows of %2 tokens…</source>
        <translation>正在分析 %1 个长度为 %2 个词元的校准窗口…</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>正在取消…</translation>
    </message>
    <message>
        <source>Cancelled; the views shown before are kept.</source>
        <translation>已取消；之前显示的视图保持不变。</translation>
    </message>
    <message>
        <source>cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <source>Analysis failed: %1</source>
        <translation>分析失败：%1</translation>
    </message>
    <message>
        <source>Analyzed in %1 s; the Hessian, scale-loss and outlier pages show the results.</source>
        <translation>分析用时 %1 秒；Hessian、缩放-损失和离群值页面显示结果。</translation>
    </message>
    <message>
        <source>Cannot open the analysis %1: %2</source>
        <translation>无法打开分析 %1：%2</translation>
    </message>
    <message>
        <source>No analysis yet: choose the calibration and the views, then Analyze.</source>
        <translation>尚无分析：请选择校准设置和视图，然后点击“分析”。</translation>
    </message>
    <message>
        <source>%1 (%2, %3 blocks): %4 windows of %5 tokens, seed %6.</source>
        <translation>%1（%2，%3 个块）：%4 个窗口，每个 %5 个词元，随机种子 %6。</translation>
    </message>
    <message>
        <source>Saved in %1</source>
        <translation>保存在 %1</translation>
    </message>
    <message>
        <source>Hessians: %1 layers × %2 levels (%3).</source>
        <translation>Hessian：%1 层 × %2 个级别（%3）。</translation>
    </message>
    <message>
        <source>Scale Hessian at %1 bits: base loss %2, %3 loss evaluations.</source>
        <translation>%1 位缩放 Hessian：基准损失 %2，损失评估 %3 次。</translation>
    </message>
    <message>
        <source>Landscape at %1 bits over blocks %2 and %3: %4 × %4 points.</source>
        <translation>%1 位下块 %2 与块 %3 的地形图：%4 × %4 个点。</translation>
    </message>
    <message>
        <source>AWQ curves at %1 bits: %2 groups.</source>
        <translation>%1 位 AWQ 曲线：%2 个组。</translation>
    </message>
    <message>
        <source>Outliers: %1 weight histograms; %2 outlier channels over %3 layer inputs.</source>
        <translation>离群值：%1 个权重直方图；%3 个层输入中共 %2 个离群通道。</translation>
    </message>
    <message>
        <source>Time: %1.</source>
        <translation>用时：%1。</translation>
    </message>
    <message>
        <source>Estimate</source>
        <translation>估算</translation>
    </message>
    <message>
        <source>The time, peak memory and statistics&apos; size of the analysis, from a run stopped at a tenth; nothing is kept</source>
        <translation>分析所需的时间、峰值内存和统计数据大小，由运行到十分之一即停止的试运行得出；不保留任何文件</translation>
    </message>
    <message>
        <source>Estimate the analysis of %1</source>
        <translation>估算 %1 的分析</translation>
    </message>
    <message>
        <source>Estimating the analysis: it runs until a tenth of it is done, then stops; nothing is kept…</source>
        <translation>正在估算分析：运行到十分之一即停止；不保留任何文件…</translation>
    </message>
    <message>
        <source>Estimate cancelled.</source>
        <translation>估算已取消。</translation>
    </message>
    <message>
        <source>Estimate failed: %1</source>
        <translation>估算失败：%1</translation>
    </message>
    <message>
        <source>Estimate: about %1, peak memory about %2, statistics of %3 (probed %4 % of the run; nothing was kept).</source>
        <translation>估算：约 %1，峰值内存约 %2，统计数据 %3（试运行了 %4 % ；未保留任何文件）。</translation>
    </message>
</context>
<context>
    <name>lowbit::BitsBarChart</name>
    <message>
        <source>tensor, by decoder block</source>
        <translation>张量（按解码器块）</translation>
    </message>
    <message>
        <source>bits per weight</source>
        <translation>每权重比特数</translation>
    </message>
    <message>
        <source>No layout</source>
        <translation>没有布局</translation>
    </message>
    <message>
        <source>target %1 bpw</source>
        <translation>目标 %1 bpw</translation>
    </message>
    <message>
        <source>%1 — %2, %3 bpw</source>
        <translation>%1 — %2，%3 bpw</translation>
    </message>
    <message>
        <source> (block %1)</source>
        <translation>（第 %1 块）</translation>
    </message>
</context>
<context>
    <name>lowbit::BudgetMeter</name>
    <message>
        <source>File size / budget</source>
        <translation>文件大小 / 预算</translation>
    </message>
    <message>
        <source>Bits per weight</source>
        <translation>每权重比特数</translation>
    </message>
    <message>
        <source>Predicted perplexity</source>
        <translation>预测困惑度</translation>
    </message>
    <message>
        <source>Bits per weight of the whole file: 8 × bytes / all parameters</source>
        <translation>整个文件的每权重比特数：8 × 字节数 / 全部参数量</translation>
    </message>
    <message>
        <source>The unquantized perplexity on the calibration windows × exp(Σ predicted ΔNLL)</source>
        <translation>未量化模型在校准窗口上的困惑度 × exp(Σ 预测 ΔNLL)</translation>
    </message>
    <message>
        <source>%1 of %2</source>
        <translation>%1 / %2</translation>
    </message>
    <message>
        <source>%1 of %2 bytes</source>
        <translation>%1 / %2 字节</translation>
    </message>
    <message>
        <source>%1 bytes</source>
        <translation>%1 字节</translation>
    </message>
    <message>
        <source>%1 (unquantized %2)</source>
        <translation>%1（未量化 %2）</translation>
    </message>
    <message>
        <source> — %1 over</source>
        <translation> — 超出 %1</translation>
    </message>
</context>
<context>
    <name>lowbit::ChannelMaxPlot</name>
    <message>
        <source>channels</source>
        <translation>通道</translation>
    </message>
    <message>
        <source>outlier channels</source>
        <translation>离群通道</translation>
    </message>
    <message>
        <source>input channel</source>
        <translation>输入通道</translation>
    </message>
    <message>
        <source>max |x|</source>
        <translation>最大 |x|</translation>
    </message>
    <message>
        <source>No activation statistics</source>
        <translation>没有激活统计</translation>
    </message>
    <message>
        <source>max |x| (log scale)</source>
        <translation>最大 |x|（对数刻度）</translation>
    </message>
    <message>
        <source>outlier channels (%1)</source>
        <translation>离群通道（%1）</translation>
    </message>
    <message>
        <source>coarse fence Q3 + %1·IQR = %2</source>
        <translation>粗栅栏 Q3 + %1·IQR = %2</translation>
    </message>
    <message>
        <source>CFP threshold %1</source>
        <translation>CFP 阈值 %1</translation>
    </message>
    <message>
        <source>channel %1: max |x| %2</source>
        <translation>通道 %1：最大 |x| %2</translation>
    </message>
    <message>
        <source> (outlier)</source>
        <translation>（离群）</translation>
    </message>
</context>
<context>
    <name>lowbit::ColourMapPlot</name>
    <message>
        <source>value</source>
        <translation>数值</translation>
    </message>
    <message>
        <source>%1, log scale</source>
        <translation>%1，对数刻度</translation>
    </message>
    <message>
        <source> (no positive values)</source>
        <translation>（没有正值）</translation>
    </message>
    <message numerus="yes">
        <source> (%n cell(s) ≤ 0 shown at %1)</source>
        <translation>
            <numerusform>（%n 个 ≤ 0 的单元格以 %1 显示）</numerusform>
        </translation>
    </message>
    <message>
        <source>%1, centred at 0</source>
        <translation>%1，以 0 为中心</translation>
    </message>
</context>
<context>
    <name>lowbit::ComparePage</name>
    <message>
        <source>Add a Layout</source>
        <translation>添加布局</translation>
    </message>
    <message>
        <source>Layouts (*.json)</source>
        <translation>布局 (*.json)</translation>
    </message>
    <message>
        <source>Evaluation Text</source>
        <translation>评估文本</translation>
    </message>
    <message>
        <source>Text files (*.txt);;All files (*)</source>
        <translation>文本文件 (*.txt);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Layouts</source>
        <translation>布局</translation>
    </message>
    <message>
        <source>Uniform formats (RTN)</source>
        <translation>统一格式（RTN）</translation>
    </message>
    <message>
        <source>Evaluation</source>
        <translation>评估</translation>
    </message>
    <message>
        <source>Add Current Plan</source>
        <translation>添加当前规划</translation>
    </message>
    <message>
        <source>Add Layout File…</source>
        <translation>添加布局文件…</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <source>a text file</source>
        <translation>一个文本文件</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>all</source>
        <translation>全部</translation>
    </message>
    <message>
        <source>Text:</source>
        <translation>文本：</translation>
    </message>
    <message>
        <source>Context:</source>
        <translation>上下文：</translation>
    </message>
    <message>
        <source>Windows:</source>
        <translation>窗口数：</translation>
    </message>
    <message>
        <source>Compare</source>
        <translation>比较</translation>
    </message>
    <message>
        <source>Layout</source>
        <translation>布局</translation>
    </message>
    <message>
        <source>Method</source>
        <translation>方法</translation>
    </message>
    <message>
        <source>Bytes</source>
        <translation>字节</translation>
    </message>
    <message>
        <source>Bits/weight</source>
        <translation>比特/权重</translation>
    </message>
    <message>
        <source>Perplexity</source>
        <translation>困惑度</translation>
    </message>
    <message>
        <source>Predicted</source>
        <translation>预测值</translation>
    </message>
    <message>
        <source>KLD</source>
        <translation>KLD</translation>
    </message>
    <message>
        <source>Top-1</source>
        <translation>Top-1</translation>
    </message>
    <message>
        <source>Time (s)</source>
        <translation>时间（秒）</translation>
    </message>
    <message>
        <source>There is no plan yet: plan a layout on the Budget and plan page first.</source>
        <translation>还没有规划：请先在“预算与规划”页面规划一个布局。</translation>
    </message>
    <message>
        <source>Open a model first.</source>
        <translation>请先打开一个模型。</translation>
    </message>
    <message>
        <source>Add a layout or check a uniform format to compare.</source>
        <translation>请添加一个布局或勾选一种统一格式以进行比较。</translation>
    </message>
    <message>
        <source>Choose an evaluation text file.</source>
        <translation>请选择一个评估文本文件。</translation>
    </message>
    <message>
        <source>The evaluation file %1 does not exist.</source>
        <translation>评估文件 %1 不存在。</translation>
    </message>
    <message numerus="yes">
        <source>Comparing %n layout(s)…</source>
        <translation>
            <numerusform>正在比较 %n 个布局…</numerusform>
        </translation>
    </message>
    <message>
        <source>Compare %1</source>
        <translation>比较 %1</translation>
    </message>
    <message>
        <source>cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <source>Cancelled.</source>
        <translation>已取消。</translation>
    </message>
    <message>
        <source>Compare failed: %1</source>
        <translation>比较失败：%1</translation>
    </message>
    <message>
        <source>—</source>
        <translation>—</translation>
    </message>
    <message numerus="yes">
        <source>Compared %n layout(s) in %1 s on %2.</source>
        <translation>
            <numerusform>已在 %2 上比较 %n 个布局，用时 %1 秒。</numerusform>
        </translation>
    </message>
    <message>
        <source>A comparison is already running.</source>
        <translation>已有一个比较正在运行。</translation>
    </message>
    <message>
        <source>Size against perplexity</source>
        <translation>文件大小与困惑度</translation>
    </message>
    <message>
        <source>Compare layouts to see their size against their perplexity</source>
        <translation>比较布局后，可在此查看其文件大小与困惑度的关系</translation>
    </message>
    <message>
        <source>No compared layout has a GGUF size to chart</source>
        <translation>所比较的布局均没有可绘制的 GGUF 文件大小</translation>
    </message>
</context>
<context>
    <name>lowbit::ComparisonChart</name>
    <message>
        <source>uniform formats</source>
        <translation>统一格式</translation>
    </message>
    <message>
        <source>plans</source>
        <translation>规划</translation>
    </message>
    <message>
        <source>perplexity</source>
        <translation>困惑度</translation>
    </message>
    <message>
        <source>No layouts measured yet</source>
        <translation>尚未测量任何布局</translation>
    </message>
    <message>
        <source>perplexity (log scale)</source>
        <translation>困惑度（对数刻度）</translation>
    </message>
    <message>
        <source>file size (%1)</source>
        <translation>文件大小（%1）</translation>
    </message>
    <message>
        <source>unquantized %1</source>
        <translation>未量化 %1</translation>
    </message>
    <message>
        <source>%1 — %2 %3</source>
        <translation>%1 — %2 %3</translation>
    </message>
    <message>
        <source>, %1 bpw</source>
        <translation>，%1 bpw</translation>
    </message>
    <message>
        <source>, perplexity %1</source>
        <translation>，困惑度 %1</translation>
    </message>
    <message>
        <source> (plan)</source>
        <translation>（规划）</translation>
    </message>
</context>
<context>
    <name>lowbit::CurvePlot</name>
    <message>
        <source>x</source>
        <translation>x</translation>
    </message>
    <message>
        <source>loss</source>
        <translation>损失</translation>
    </message>
    <message>
        <source>No data yet</source>
        <translation>暂无数据</translation>
    </message>
    <message>
        <source>%1 (log scale)</source>
        <translation>%1（对数刻度）</translation>
    </message>
    <message>
        <source>%1 — %2 %3, %4 %5</source>
        <translation>%1 — %2 %3，%4 %5</translation>
    </message>
</context>
<context>
    <name>lowbit::DropZone</name>
    <message>
        <source>Drop zone for a model</source>
        <translation>模型拖放区</translation>
    </message>
    <message>
        <source>Drop a Hugging Face checkpoint folder, a .safetensors or a .gguf file, or click to choose one</source>
        <translation>拖入一个 Hugging Face 检查点文件夹、.safetensors 或 .gguf 文件，或单击以选择</translation>
    </message>
    <message>
        <source>Release to open the model</source>
        <translation>松开以打开模型</translation>
    </message>
    <message>
        <source>Drop a model here</source>
        <translation>将模型拖放到这里</translation>
    </message>
    <message>
        <source>A Hugging Face checkpoint folder, a .safetensors file or a .gguf file — or click to choose one</source>
        <translation>Hugging Face 检查点文件夹、.safetensors 文件或 .gguf 文件 — 或单击以选择</translation>
    </message>
</context>
<context>
    <name>lowbit::ExportPage</name>
    <message>
        <source>Layout to Export</source>
        <translation>要导出的布局</translation>
    </message>
    <message>
        <source>Layouts (*.json)</source>
        <translation>布局 (*.json)</translation>
    </message>
    <message>
        <source>Export to</source>
        <translation>导出到</translation>
    </message>
    <message>
        <source>GGUF files (*.gguf)</source>
        <translation>GGUF 文件 (*.gguf)</translation>
    </message>
    <message>
        <source>Export into Folder</source>
        <translation>导出到文件夹</translation>
    </message>
    <message>
        <source>Write Report</source>
        <translation>写入报告</translation>
    </message>
    <message>
        <source>PDF files (*.pdf)</source>
        <translation>PDF 文件 (*.pdf)</translation>
    </message>
    <message>
        <source>Export</source>
        <translation>导出</translation>
    </message>
    <message>
        <source>Layout:</source>
        <translation>布局：</translation>
    </message>
    <message>
        <source>Format:</source>
        <translation>格式：</translation>
    </message>
    <message>
        <source>Output:</source>
        <translation>输出：</translation>
    </message>
    <message>
        <source>The current plan</source>
        <translation>当前规划</translation>
    </message>
    <message>
        <source>A layout file</source>
        <translation>布局文件</translation>
    </message>
    <message>
        <source>layout.json</source>
        <translation>layout.json</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>GGUF (llama.cpp)</source>
        <translation>GGUF（llama.cpp）</translation>
    </message>
    <message>
        <source>GPTQ checkpoint (int formats)</source>
        <translation>GPTQ 检查点（int 格式）</translation>
    </message>
    <message>
        <source>Report PDF…</source>
        <translation>PDF 报告…</translation>
    </message>
    <message>
        <source>Open a model first.</source>
        <translation>请先打开一个模型。</translation>
    </message>
    <message>
        <source>There is no plan yet: plan a layout on the Budget and plan page, or choose a layout file.</source>
        <translation>还没有规划：请在“预算与规划”页面规划一个布局，或选择一个布局文件。</translation>
    </message>
    <message>
        <source>current plan</source>
        <translation>当前规划</translation>
    </message>
    <message>
        <source>Choose where to write the export.</source>
        <translation>请选择导出文件的写入位置。</translation>
    </message>
    <message>
        <source>Exporting to %1…</source>
        <translation>正在导出到 %1…</translation>
    </message>
    <message>
        <source>Export %1</source>
        <translation>导出 %1</translation>
    </message>
    <message>
        <source>cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <source>Cancelled; nothing was written.</source>
        <translation>已取消；未写入任何内容。</translation>
    </message>
    <message>
        <source>Export failed: %1</source>
        <translation>导出失败：%1</translation>
    </message>
    <message>
        <source>Wrote %1: %2 bytes, %3 bits per weight, in %4 s.</source>
        <translation>已写入 %1：%2 字节，每权重 %3 比特，用时 %4 秒。</translation>
    </message>
    <message>
        <source>There is no project to report on.</source>
        <translation>没有可生成报告的项目。</translation>
    </message>
    <message>
        <source>The report could not be written: %1</source>
        <translation>无法写入报告：%1</translation>
    </message>
    <message numerus="yes">
        <source>Wrote the report %1 (%n page(s)).</source>
        <translation>
            <numerusform>已写入报告 %1（%n 页）。</numerusform>
        </translation>
    </message>
    <message>
        <source>Report</source>
        <translation>报告</translation>
    </message>
    <message>
        <source>Estimate</source>
        <translation>估算</translation>
    </message>
    <message>
        <source>The file&apos;s size, the peak memory and the time of the export, from a probe of one block; nothing is written</source>
        <translation>导出的文件大小、峰值内存和耗时，由试运行一个块得出；不写入任何文件</translation>
    </message>
    <message>
        <source>Estimating the export to %1…</source>
        <translation>正在估算导出到 %1…</translation>
    </message>
    <message>
        <source>Estimate %1</source>
        <translation>估算 %1</translation>
    </message>
    <message>
        <source>Estimate cancelled.</source>
        <translation>估算已取消。</translation>
    </message>
    <message>
        <source>Estimate failed: %1</source>
        <translation>估算失败：%1</translation>
    </message>
    <message numerus="yes">
        <source>Estimate: %1 written, peak memory about %2, about %3 (%n block(s), one probed in %4 s; nothing was written).</source>
        <translation>
            <numerusform>估算：写入 %1，峰值内存约 %2，耗时约 %3（共 %n 个块，试运行一个用时 %4 秒；未写入任何文件）。</numerusform>
        </translation>
    </message>
    <message>
        <source>nothing</source>
        <translation>无</translation>
    </message>
    <message>
        <source>Export failed: %1. The finished blocks are kept in %2: exporting the same layout to the same file again continues from them.</source>
        <translation>导出失败：%1。已完成的块保存在 %2：再次将同一布局导出到同一文件时会从这些块继续。</translation>
    </message>
    <message numerus="yes">
        <source>%n block(s) came from the interrupted export before this one.</source>
        <translation>
            <numerusform>其中 %n 个块来自此前被中断的导出。</numerusform>
        </translation>
    </message>
    <message>
        <source>Quantized on the GPU (Vulkan).</source>
        <translation>已在 GPU（Vulkan）上量化。</translation>
    </message>
    <message>
        <source>The Vulkan backend was unavailable: quantized on the CPU.</source>
        <translation>Vulkan 后端不可用：已在 CPU 上量化。</translation>
    </message>
    <message>
        <source>Wrote %1 (from %2, the model open before).</source>
        <translation>已写入 %1（来自 %2，即之前打开的模型）。</translation>
    </message>
    <message>
        <source>Choose a layout file.</source>
        <translation>请选择一个布局文件。</translation>
    </message>
    <message>
        <source>Exporting to %1, calibrated on %2…</source>
        <translation>正在导出到 %1，校准文本为 %2…</translation>
    </message>
    <message>
        <source>no text (none found)</source>
        <translation>无文本（未找到）</translation>
    </message>
</context>
<context>
    <name>lowbit::HeatmapPlot</name>
    <message>
        <source>column j</source>
        <translation>列 j</translation>
    </message>
    <message>
        <source>row i</source>
        <translation>行 i</translation>
    </message>
    <message>
        <source>|H|</source>
        <translation>|H|</translation>
    </message>
    <message>
        <source>No matrix</source>
        <translation>没有矩阵</translation>
    </message>
    <message>
        <source>Empty matrix</source>
        <translation>空矩阵</translation>
    </message>
    <message>
        <source>%1 × %2</source>
        <translation>%1 × %2</translation>
    </message>
    <message>
        <source>|value|</source>
        <translation>|值|</translation>
    </message>
    <message>
        <source>magnitude</source>
        <translation>幅值</translation>
    </message>
    <message>
        <source>i %1, j %2: %3</source>
        <translation>i %1，j %2：%3</translation>
    </message>
    <message>
        <source>
cell of rows %1–%2, columns %3–%4: max %5</source>
        <translation>
第 %1–%2 行、第 %3–%4 列的单元格：最大值 %5</translation>
    </message>
    <message>
        <source>%1, drawn as %2 × %3 cells, each the max %4 of a %5 × %5 block</source>
        <translation>%1，绘制为 %2 × %3 个单元格，每个单元格为 %5 × %5 块的最大 %4</translation>
    </message>
</context>
<context>
    <name>lowbit::HessianPage</name>
    <message>
        <source>Layer:</source>
        <translation>层：</translation>
    </message>
    <message>
        <source>Spectrum:</source>
        <translation>谱：</translation>
    </message>
    <message>
        <source>eigenvalues</source>
        <translation>特征值</translation>
    </message>
    <message>
        <source>diagonal</source>
        <translation>对角线</translation>
    </message>
    <message>
        <source>Level</source>
        <translation>级别</translation>
    </message>
    <message>
        <source>Trace</source>
        <translation>迹</translation>
    </message>
    <message>
        <source>Off-diagonal mass</source>
        <translation>非对角质量</translation>
    </message>
    <message>
        <source>Mean |corr|</source>
        <translation>平均 |相关系数|</translation>
    </message>
    <message>
        <source>λ min</source>
        <translation>λ 最小值</translation>
    </message>
    <message>
        <source>λ max</source>
        <translation>λ 最大值</translation>
    </message>
    <message>
        <source>Effective rank</source>
        <translation>有效秩</translation>
    </message>
    <message>
        <source>block %1 · %2 input</source>
        <translation>块 %1 · %2 输入</translation>
    </message>
    <message>
        <source>Run Analyze with the Hessian view</source>
        <translation>请运行包含 Hessian 视图的分析</translation>
    </message>
    <message>
        <source>full precision</source>
        <translation>全精度</translation>
    </message>
    <message>
        <source>earlier blocks at %1 bits</source>
        <translation>前面的块为 %1 位</translation>
    </message>
    <message>
        <source>rank</source>
        <translation>秩序号</translation>
    </message>
    <message>
        <source>eigenvalue</source>
        <translation>特征值</translation>
    </message>
    <message>
        <source>diagonal entry</source>
        <translation>对角元素</translation>
    </message>
</context>
<context>
    <name>lowbit::HistogramPlot</name>
    <message>
        <source>weight value</source>
        <translation>权重值</translation>
    </message>
    <message>
        <source>count</source>
        <translation>计数</translation>
    </message>
    <message>
        <source>No data</source>
        <translation>没有数据</translation>
    </message>
    <message>
        <source>%1 (log scale)</source>
        <translation>%1（对数刻度）</translation>
    </message>
</context>
<context>
    <name>lowbit::IssuesPanel</name>
    <message>
        <source>Time</source>
        <translation>时间</translation>
    </message>
    <message>
        <source>Job</source>
        <translation>任务</translation>
    </message>
    <message>
        <source>Issue</source>
        <translation>问题</translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>清除</translation>
    </message>
</context>
<context>
    <name>lowbit::JobCenter</name>
    <message>
        <source>Cancelling…</source>
        <translation>正在取消…</translation>
    </message>
    <message>
        <source>Running</source>
        <translation>运行中</translation>
    </message>
    <message>
        <source>Done</source>
        <translation>已完成</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation>已取消</translation>
    </message>
    <message numerus="yes">
        <source>about %n s left</source>
        <translation>
            <numerusform>大约还剩 %n 秒</numerusform>
        </translation>
    </message>
    <message>
        <source>about %1 min %2 s left</source>
        <translation>大约还剩 %1 分 %2 秒</translation>
    </message>
    <message>
        <source>about %1 h %2 min left</source>
        <translation>大约还剩 %1 小时 %2 分</translation>
    </message>
    <message>
        <source>waiting for the running job to end</source>
        <translation>等待正在运行的任务结束</translation>
    </message>
</context>
<context>
    <name>lowbit::JobsPanel</name>
    <message>
        <source>Job</source>
        <translation>任务</translation>
    </message>
    <message>
        <source>Progress</source>
        <translation>进度</translation>
    </message>
    <message>
        <source>Stage</source>
        <translation>阶段</translation>
    </message>
    <message>
        <source>Clear finished</source>
        <translation>清除已结束的任务</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>时间</translation>
    </message>
    <message>
        <source>took %1 s</source>
        <translation>用时 %1 秒</translation>
    </message>
</context>
<context>
    <name>lowbit::LandscapePlot</name>
    <message>
        <source>No landscape</source>
        <translation>没有损失地形</translation>
    </message>
    <message>
        <source>value</source>
        <translation>数值</translation>
    </message>
    <message>
        <source>No landscape: the grid is empty or its sizes disagree</source>
        <translation>没有损失地形：网格为空或其尺寸不一致</translation>
    </message>
    <message>
        <source>min %1</source>
        <translation>最小值 %1</translation>
    </message>
    <message>
        <source>%1 %2, %3 %4: %5 %6</source>
        <translation>%1 %2，%3 %4：%5 %6</translation>
    </message>
</context>
<context>
    <name>lowbit::LayerPrecisionModel</name>
    <message>
        <source>Mean KL divergence of the next-token distributions when only this tensor is quantized</source>
        <translation>仅量化此张量时，下一个词元分布的平均 KL 散度</translation>
    </message>
    <message>
        <source>Predicted change of the mean negative log-likelihood (nats per token)</source>
        <translation>平均负对数似然的预测变化（每词元奈特数）</translation>
    </message>
    <message>
        <source>Edited; the planner chose %1</source>
        <translation>已编辑；规划器选择的是 %1</translation>
    </message>
    <message>
        <source>Block</source>
        <translation>块</translation>
    </message>
    <message>
        <source>Tensor</source>
        <translation>张量</translation>
    </message>
    <message>
        <source>Shape</source>
        <translation>形状</translation>
    </message>
    <message>
        <source>Sensitivity (KLD)</source>
        <translation>敏感度（KLD）</translation>
    </message>
    <message>
        <source>Format</source>
        <translation>格式</translation>
    </message>
    <message>
        <source>Bits</source>
        <translation>比特</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>Predicted ΔNLL</source>
        <translation>预测 ΔNLL</translation>
    </message>
</context>
<context>
    <name>lowbit::MainWindow</name>
    <message>
        <source>Open Project</source>
        <translation>打开项目</translation>
    </message>
    <message>
        <source>Lowbit projects (*.lowbit)</source>
        <translation>Lowbit 项目 (*.lowbit)</translation>
    </message>
    <message>
        <source>Save Project</source>
        <translation>保存项目</translation>
    </message>
    <message>
        <source>About Lowbit Studio</source>
        <translation>关于 Lowbit Studio</translation>
    </message>
    <message>
        <source>&lt;b&gt;Lowbit Studio %1&lt;/b&gt;&lt;p&gt;A desktop studio for compressing large language models.&lt;/p&gt;</source>
        <translation>&lt;b&gt;Lowbit Studio %1&lt;/b&gt;&lt;p&gt;用于压缩大语言模型的桌面工作室。&lt;/p&gt;</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Open File…</source>
        <translation>打开文件(&amp;O)…</translation>
    </message>
    <message>
        <source>Open &amp;Folder…</source>
        <translation>打开文件夹(&amp;F)…</translation>
    </message>
    <message>
        <source>Open &amp;Demo Model</source>
        <translation>打开演示模型(&amp;D)</translation>
    </message>
    <message>
        <source>Open &amp;Project…</source>
        <translation>打开项目(&amp;P)…</translation>
    </message>
    <message>
        <source>&amp;Save Project…</source>
        <translation>保存项目(&amp;S)…</translation>
    </message>
    <message>
        <source>Open &amp;Recent</source>
        <translation>最近打开(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Close Model</source>
        <translation>关闭模型(&amp;C)</translation>
    </message>
    <message>
        <source>Se&amp;ttings…</source>
        <translation>设置(&amp;T)…</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>&amp;About Lowbit Studio</source>
        <translation>关于 Lowbit Studio(&amp;A)</translation>
    </message>
    <message>
        <source>Jobs</source>
        <translation>任务</translation>
    </message>
    <message>
        <source>Issues</source>
        <translation>问题</translation>
    </message>
    <message>
        <source>Drop a model on the window, or open one from the File menu</source>
        <translation>将模型拖放到窗口上，或从“文件”菜单中打开</translation>
    </message>
    <message>
        <source>Start</source>
        <translation>开始</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Budget and plan</source>
        <translation>预算与规划</translation>
    </message>
    <message>
        <source>Compare</source>
        <translation>比较</translation>
    </message>
    <message>
        <source>Export</source>
        <translation>导出</translation>
    </message>
    <message>
        <source>No demo model</source>
        <translation>没有演示模型</translation>
    </message>
    <message>
        <source>The demo model is not installed.</source>
        <translation>未安装演示模型。</translation>
    </message>
    <message>
        <source>Looked in:
%1

Set LOWBIT_DEMO_MODEL to a checkpoint folder or file to use another one.</source>
        <translation>已查找：
%1

将 LOWBIT_DEMO_MODEL 设置为一个检查点文件夹或文件即可使用其他模型。</translation>
    </message>
    <message>
        <source>Open Model</source>
        <translation>打开模型</translation>
    </message>
    <message>
        <source>Model files (*.safetensors *.gguf);;All files (*)</source>
        <translation>模型文件 (*.safetensors *.gguf);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Open Model Folder</source>
        <translation>打开模型文件夹</translation>
    </message>
    <message>
        <source>Opening %1…</source>
        <translation>正在打开 %1…</translation>
    </message>
    <message>
        <source>Opened %1 in %2 ms</source>
        <translation>已打开 %1，用时 %2 毫秒</translation>
    </message>
    <message>
        <source>Opened %1 in %2 s</source>
        <translation>已打开 %1，用时 %2 秒</translation>
    </message>
    <message>
        <source>Cannot open model</source>
        <translation>无法打开模型</translation>
    </message>
    <message>
        <source>Could not open “%1”.</source>
        <translation>无法打开“%1”。</translation>
    </message>
    <message>
        <source>Clear Recent Models</source>
        <translation>清除最近的模型</translation>
    </message>
    <message>
        <source>unknown architecture</source>
        <translation>未知架构</translation>
    </message>
    <message>
        <source>%1 · %2 parameters · %3</source>
        <translation>%1 · %2 参数 · %3</translation>
    </message>
    <message>
        <source>%1 — Lowbit Studio</source>
        <translation>%1 — Lowbit Studio</translation>
    </message>
    <message>
        <source>Lowbit Studio</source>
        <translation>Lowbit Studio</translation>
    </message>
    <message>
        <source>Open a model before saving a project.</source>
        <translation>请先打开一个模型再保存项目。</translation>
    </message>
    <message>
        <source>Cannot save project</source>
        <translation>无法保存项目</translation>
    </message>
    <message>
        <source>Could not save “%1”.</source>
        <translation>无法保存“%1”。</translation>
    </message>
    <message>
        <source>Saved the project %1</source>
        <translation>已保存项目 %1</translation>
    </message>
    <message>
        <source>Cannot open project</source>
        <translation>无法打开项目</translation>
    </message>
    <message>
        <source>Opened the project %1</source>
        <translation>已打开项目 %1</translation>
    </message>
    <message>
        <source>Analyze</source>
        <translation>分析</translation>
    </message>
    <message>
        <source>Hessian</source>
        <translation>Hessian</translation>
    </message>
    <message>
        <source>Scale-loss</source>
        <translation>缩放-损失</translation>
    </message>
    <message>
        <source>Outliers</source>
        <translation>离群值</translation>
    </message>
    <message>
        <source>Project</source>
        <translation>项目</translation>
    </message>
    <message>
        <source>The analysis of the project could not be opened: %1</source>
        <translation>无法打开项目的分析：%1</translation>
    </message>
    <message>
        <source>The project names no model.</source>
        <translation>该项目未指定模型。</translation>
    </message>
    <message>
        <source>Quit Lowbit Studio</source>
        <translation>退出 Lowbit Studio</translation>
    </message>
    <message numerus="yes">
        <source>%n job(s) still running: quitting cancels them and their work is lost (an export keeps its finished blocks for the next export of the same layout).</source>
        <translation>
            <numerusform>仍有 %n 个任务在运行：退出会取消它们，其工作将丢失（导出会保留已完成的块，供同一布局的下一次导出继续使用）。</numerusform>
        </translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>退出</translation>
    </message>
</context>
<context>
    <name>lowbit::ModelOpener</name>
    <message>
        <source>GGUF vocabulary (%1, %2 tokens)</source>
        <translation>GGUF 词表（%1，%2 个词元）</translation>
    </message>
</context>
<context>
    <name>lowbit::ModelPage</name>
    <message>
        <source>Hugging Face folder, %1 shards</source>
        <translation>Hugging Face 文件夹，%1 个分片</translation>
    </message>
    <message>
        <source>Hugging Face folder</source>
        <translation>Hugging Face 文件夹</translation>
    </message>
    <message>
        <source>safetensors file</source>
        <translation>safetensors 文件</translation>
    </message>
    <message>
        <source>GGUF v%1</source>
        <translation>GGUF v%1</translation>
    </message>
    <message>
        <source>%1 (%2)</source>
        <translation>%1（%2）</translation>
    </message>
    <message>
        <source>Weight distribution</source>
        <translation>权重分布</translation>
    </message>
    <message>
        <source>Select a tensor to see its weight distribution</source>
        <translation>选择一个张量以查看其权重分布</translation>
    </message>
    <message>
        <source>Architecture</source>
        <translation>架构</translation>
    </message>
    <message>
        <source>Parameters</source>
        <translation>参数量</translation>
    </message>
    <message>
        <source>Size on disk</source>
        <translation>磁盘大小</translation>
    </message>
    <message>
        <source>Format</source>
        <translation>格式</translation>
    </message>
    <message>
        <source>Data types</source>
        <translation>数据类型</translation>
    </message>
    <message>
        <source>Tokenizer</source>
        <translation>分词器</translation>
    </message>
    <message>
        <source>Filter tensors by name or type (e.g. q_proj, layers.3., bf16)</source>
        <translation>按名称或类型筛选张量（例如 q_proj、layers.3.、bf16）</translation>
    </message>
    <message>
        <source>Log counts</source>
        <translation>对数计数</translation>
    </message>
    <message>
        <source>Show counts on a logarithmic axis, where rare outlier weights stay visible</source>
        <translation>在对数坐标轴上显示计数，使稀少的离群权重仍然可见</translation>
    </message>
    <message>
        <source>%1 layers · hidden %2 · %3 heads</source>
        <translation>%1 层 · 隐藏维度 %2 · %3 个注意力头</translation>
    </message>
    <message>
        <source> (%1 KV)</source>
        <translation>（%1 个 KV 头）</translation>
    </message>
    <message>
        <source> · vocab %1</source>
        <translation> · 词表 %1</translation>
    </message>
    <message>
        <source>unknown</source>
        <translation>未知</translation>
    </message>
    <message>
        <source>The architecture could not be read; tensors are shown as stored.</source>
        <translation>无法读取架构；张量按存储形式显示。</translation>
    </message>
    <message>
        <source>%1 parameters</source>
        <translation>%1 个参数</translation>
    </message>
    <message>
        <source>%1 bytes</source>
        <translation>%1 字节</translation>
    </message>
    <message>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <source>%1 tensors</source>
        <translation>%1 个张量</translation>
    </message>
    <message>
        <source>%1 of %2 tensors</source>
        <translation>%1 / %2 个张量</translation>
    </message>
    <message>
        <source>Histograms are shown for 2-D weight tensors; this one is %1-D.</source>
        <translation>直方图仅显示二维权重张量；此张量为 %1 维。</translation>
    </message>
    <message>
        <source>Reading %1…</source>
        <translation>正在读取 %1…</translation>
    </message>
    <message>
        <source>No histogram for this tensor</source>
        <translation>此张量没有直方图</translation>
    </message>
    <message>
        <source>This tensor has no finite values</source>
        <translation>此张量没有有限值</translation>
    </message>
    <message>
        <source>mean %1 · std %2 · max |w| %3 · %4 values</source>
        <translation>均值 %1 · 标准差 %2 · 最大 |w| %3 · %4 个值</translation>
    </message>
    <message>
        <source> (sampled %1 of %2 rows)</source>
        <translation>（采样 %2 行中的 %1 行）</translation>
    </message>
    <message>
        <source> · %1 non-finite</source>
        <translation> · %1 个非有限值</translation>
    </message>
</context>
<context>
    <name>lowbit::OutlierPage</name>
    <message>
        <source>Activations of:</source>
        <translation>激活来自：</translation>
    </message>
    <message>
        <source>Tensor</source>
        <translation>张量</translation>
    </message>
    <message>
        <source>Block</source>
        <translation>块</translation>
    </message>
    <message>
        <source>Part</source>
        <translation>部分</translation>
    </message>
    <message>
        <source>Kurtosis</source>
        <translation>峰度</translation>
    </message>
    <message>
        <source>Max |w|</source>
        <translation>最大 |w|</translation>
    </message>
    <message>
        <source>Std</source>
        <translation>标准差</translation>
    </message>
    <message>
        <source>block %1 · %2 input</source>
        <translation>块 %1 · %2 输入</translation>
    </message>
    <message>
        <source>block</source>
        <translation>块</translation>
    </message>
    <message>
        <source>kurtosis</source>
        <translation>峰度</translation>
    </message>
    <message>
        <source>Run Analyze with the outlier view</source>
        <translation>请运行包含离群值视图的分析</translation>
    </message>
    <message>
        <source>%1 (%2, block %3): weight</source>
        <translation>%1（%2，块 %3）：权重</translation>
    </message>
    <message>
        <source>count</source>
        <translation>计数</translation>
    </message>
    <message>
        <source>block %1 · %2 input: max |x| per channel</source>
        <translation>块 %1 · %2 输入：各通道最大 |x|</translation>
    </message>
    <message>
        <source>%1 (%2)</source>
        <translation>%1（%2）</translation>
    </message>
    <message>
        <source>No outlier channels above the fine fence.</source>
        <translation>没有通道超过精细阈值。</translation>
    </message>
    <message numerus="yes">
        <source>%n outlier channel(s); the largest: %1</source>
        <translation>
            <numerusform>%n 个离群通道；最大的：%1</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>lowbit::PlanPage</name>
    <message>
        <source>Budget</source>
        <translation>预算</translation>
    </message>
    <message>
        <source>Formats</source>
        <translation>格式</translation>
    </message>
    <message>
        <source>Target:</source>
        <translation>目标：</translation>
    </message>
    <message>
        <source>Method:</source>
        <translation>方法：</translation>
    </message>
    <message>
        <source>Calibration:</source>
        <translation>校准：</translation>
    </message>
    <message>
        <source>Samples:</source>
        <translation>样本：</translation>
    </message>
    <message>
        <source>windows of</source>
        <translation>个窗口，每个</translation>
    </message>
    <message>
        <source>tokens, seed</source>
        <translation>个词元，随机种子</translation>
    </message>
    <message>
        <source>Bits per weight</source>
        <translation>每权重比特数</translation>
    </message>
    <message>
        <source>File size</source>
        <translation>文件大小</translation>
    </message>
    <message>
        <source> MiB</source>
        <translation> MiB</translation>
    </message>
    <message>
        <source>The method written into the layout, used when it is quantized; sensitivities are measured with round-to-nearest</source>
        <translation>写入布局的方法，在量化时使用；敏感度使用就近舍入（RTN）测量</translation>
    </message>
    <message>
        <source>a text file</source>
        <translation>一个文本文件</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>Plan</source>
        <translation>规划</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Save Layout…</source>
        <translation>保存布局…</translation>
    </message>
    <message>
        <source>Open a model first.</source>
        <translation>请先打开一个模型。</translation>
    </message>
    <message>
        <source>Choose a calibration text file.</source>
        <translation>请选择一个校准文本文件。</translation>
    </message>
    <message>
        <source>The calibration file %1 does not exist.</source>
        <translation>校准文件 %1 不存在。</translation>
    </message>
    <message>
        <source>Measuring sensitivities…</source>
        <translation>正在测量敏感度…</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>正在取消…</translation>
    </message>
    <message>
        <source>Cancelled.</source>
        <translation>已取消。</translation>
    </message>
    <message>
        <source>cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <source>Planning failed: %1</source>
        <translation>规划失败：%1</translation>
    </message>
    <message>
        <source>Planned %1 tensors in %2 s (sensitivities: %3 measured, %4 cached).</source>
        <translation>已在 %2 秒内规划 %1 个张量（敏感度：%3 个已测量，%4 个来自缓存）。</translation>
    </message>
    <message>
        <source>Warning: %1</source>
        <translation>警告：%1</translation>
    </message>
    <message>
        <source>The planner&apos;s layout.</source>
        <translation>规划器给出的布局。</translation>
    </message>
    <message numerus="yes">
        <source>%n tensor(s) edited since the plan.</source>
        <translation>
            <numerusform>自规划以来已编辑 %n 个张量。</numerusform>
        </translation>
    </message>
    <message>
        <source>There is no plan to save.</source>
        <translation>没有可保存的规划。</translation>
    </message>
    <message>
        <source>Could not save the layout: %1</source>
        <translation>无法保存布局：%1</translation>
    </message>
    <message>
        <source>Saved the layout to %1.</source>
        <translation>已将布局保存到 %1。</translation>
    </message>
    <message>
        <source>Calibration Text</source>
        <translation>校准文本</translation>
    </message>
    <message>
        <source>Text files (*.txt);;All files (*)</source>
        <translation>文本文件 (*.txt);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Save Layout</source>
        <translation>保存布局</translation>
    </message>
    <message>
        <source>Layouts (*.json);;All files (*)</source>
        <translation>布局 (*.json);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Measured on the GPU (Vulkan).</source>
        <translation>已在 GPU（Vulkan）上测量。</translation>
    </message>
    <message>
        <source>Plan %1</source>
        <translation>规划 %1</translation>
    </message>
</context>
<context>
    <name>lowbit::ScaleLossPage</name>
    <message>
        <source>Bits:</source>
        <translation>位数：</translation>
    </message>
    <message>
        <source>AWQ group:</source>
        <translation>AWQ 组：</translation>
    </message>
    <message>
        <source>%1 bits</source>
        <translation>%1 位</translation>
    </message>
    <message>
        <source>block %1 · %2</source>
        <translation>块 %1 · %2</translation>
    </message>
    <message>
        <source>α (scales = mean |x|^α)</source>
        <translation>α（缩放 = 平均 |x|^α）</translation>
    </message>
    <message>
        <source>output error</source>
        <translation>输出误差</translation>
    </message>
    <message>
        <source>clip ratio</source>
        <translation>截断比</translation>
    </message>
    <message>
        <source>loss</source>
        <translation>损失</translation>
    </message>
    <message>
        <source>∂²L/∂cᵢ∂cⱼ</source>
        <translation>∂²L/∂cᵢ∂cⱼ</translation>
    </message>
    <message>
        <source>c (block %1)</source>
        <translation>c（块 %1）</translation>
    </message>
    <message>
        <source>Calibration loss over two blocks&apos; scales, %1</source>
        <translation>两个块缩放上的校准损失，%1</translation>
    </message>
    <message>
        <source>Run Analyze with the landscape view</source>
        <translation>请运行包含地形图视图的分析</translation>
    </message>
    <message>
        <source>block</source>
        <translation>块</translation>
    </message>
    <message>
        <source>Hessian of the loss over per-block scales, %1</source>
        <translation>损失关于各块缩放的 Hessian，%1</translation>
    </message>
    <message>
        <source>Run Analyze with the scale Hessian view</source>
        <translation>请运行包含缩放 Hessian 视图的分析</translation>
    </message>
    <message>
        <source>Run Analyze with the AWQ view</source>
        <translation>请运行包含 AWQ 视图的分析</translation>
    </message>
    <message>
        <source>Adam step</source>
        <translation>Adam 步数</translation>
    </message>
    <message>
        <source>CBQ loss</source>
        <translation>CBQ 损失</translation>
    </message>
    <message>
        <source>Export a CBQ layout to see its loss per window</source>
        <translation>导出一个 CBQ 布局以查看每个窗口的损失</translation>
    </message>
    <message>
        <source>blocks %1–%2</source>
        <translation>块 %1–%2</translation>
    </message>
    <message>
        <source>block %1</source>
        <translation>块 %1</translation>
    </message>
</context>
<context>
    <name>lowbit::SettingsDialog</name>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>&amp;Backend:</source>
        <translation>后端(&amp;B)：</translation>
    </message>
    <message>
        <source>Vulkan &amp;device:</source>
        <translation>Vulkan 设备(&amp;D)：</translation>
    </message>
    <message>
        <source>&amp;Threads:</source>
        <translation>线程数(&amp;T)：</translation>
    </message>
    <message>
        <source>&amp;Language:</source>
        <translation>语言(&amp;L)：</translation>
    </message>
    <message>
        <source>Vulkan (GPU)</source>
        <translation>Vulkan（GPU）</translation>
    </message>
    <message>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <source>No Vulkan device: %1</source>
        <translation>没有 Vulkan 设备：%1</translation>
    </message>
    <message>
        <source>No Vulkan in this build</source>
        <translation>此构建不包含 Vulkan</translation>
    </message>
    <message>
        <source>All cores (%1)</source>
        <translation>全部核心（%1）</translation>
    </message>
    <message>
        <source>Threads used by the CPU backend&apos;s matrix products and quantizers; 0 uses every core</source>
        <translation>CPU 后端的矩阵乘法和量化器使用的线程数；0 表示使用全部核心</translation>
    </message>
    <message>
        <source>The language of the studio; it changes at once</source>
        <translation>工作室的界面语言；更改后立即生效</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>Every studio job runs on the CPU: this build has no Vulkan backend.</source>
        <translation>所有工作室任务都在 CPU 上运行：此构建不含 Vulkan 后端。</translation>
    </message>
    <message>
        <source>Compare quantizes and evaluates its layouts, Export quantizes (RTN, GPTQ&apos;s sweep, AWQ&apos;s scale grid and the calibration), Analyze runs its calibration and its views&apos; forward passes and Plan its sensitivity measurement on the backend and device chosen here; the outlier histograms and whatever a shader does not cover run on the CPU.</source>
        <translation>“比较”在此处选择的后端和设备上量化并评估其布局，“导出”在其上量化（RTN、GPTQ 的扫描、AWQ 的缩放网格和校准），“分析”在其上运行校准和各视图的前向计算，“规划”在其上测量敏感度；离群值直方图以及着色器未覆盖的部分在 CPU 上运行。</translation>
    </message>
</context>
<context>
    <name>lowbit::SpectrumPlot</name>
    <message>
        <source>rank</source>
        <translation>序号</translation>
    </message>
    <message>
        <source>eigenvalue</source>
        <translation>特征值</translation>
    </message>
    <message>
        <source>No spectrum</source>
        <translation>没有谱</translation>
    </message>
    <message>
        <source>%1 (log scale)</source>
        <translation>%1（对数刻度）</translation>
    </message>
    <message numerus="yes">
        <source> (%n value(s) ≤ 0 not shown)</source>
        <translation>
            <numerusform>（%n 个 ≤ 0 的值未显示）</numerusform>
        </translation>
    </message>
    <message>
        <source>No positive values to draw on a log axis</source>
        <translation>没有可在对数坐标轴上绘制的正值</translation>
    </message>
    <message>
        <source>No finite values</source>
        <translation>没有有限值</translation>
    </message>
    <message>
        <source>%1 — %2 %3: %4</source>
        <translation>%1 — %2 %3：%4</translation>
    </message>
</context>
<context>
    <name>lowbit::StartPage</name>
    <message>
        <source>Lowbit Studio</source>
        <translation>Lowbit Studio</translation>
    </message>
    <message>
        <source>Compress a language model: open a checkpoint to see what it holds, then choose a bit budget, analyze and quantize it.</source>
        <translation>压缩语言模型：打开一个检查点查看其内容，然后选择比特预算，进行分析和量化。</translation>
    </message>
    <message>
        <source>Open File…</source>
        <translation>打开文件…</translation>
    </message>
    <message>
        <source>Open Folder…</source>
        <translation>打开文件夹…</translation>
    </message>
    <message>
        <source>Open Demo Model</source>
        <translation>打开演示模型</translation>
    </message>
    <message>
        <source>A small model trained for this studio, to try every page in seconds</source>
        <translation>为本工作室训练的小模型，几秒钟即可试用每个页面</translation>
    </message>
    <message>
        <source>Recent models</source>
        <translation>最近的模型</translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>清除</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Location</source>
        <translation>位置</translation>
    </message>
    <message>
        <source>Models you open appear here.</source>
        <translation>你打开的模型会显示在这里。</translation>
    </message>
    <message>
        <source>%1 no longer exists</source>
        <translation>%1 已不存在</translation>
    </message>
</context>
<context>
    <name>lowbit::StudioTour</name>
    <message>
        <source>the tour timed out</source>
        <translation>导览超时</translation>
    </message>
    <message>
        <source>cannot create %1</source>
        <translation>无法创建 %1</translation>
    </message>
    <message>
        <source>no demo model found; give one with --model PATH</source>
        <translation>未找到演示模型；请用 --model PATH 指定一个</translation>
    </message>
    <message>
        <source>cannot write %1</source>
        <translation>无法写入 %1</translation>
    </message>
    <message>
        <source>the analysis failed: %1</source>
        <translation>分析失败：%1</translation>
    </message>
    <message>
        <source>the analysis could not start: %1</source>
        <translation>分析无法启动：%1</translation>
    </message>
</context>
<context>
    <name>lowbit::TensorTableModel</name>
    <message>
        <source>scalar</source>
        <translation>标量</translation>
    </message>
    <message>
        <source>%1 bytes</source>
        <translation>%1 字节</translation>
    </message>
    <message>
        <source>%1
in %2</source>
        <translation>%1
位于 %2</translation>
    </message>
    <message>
        <source>Tensor</source>
        <translation>张量</translation>
    </message>
    <message>
        <source>Type</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>Shape</source>
        <translation>形状</translation>
    </message>
    <message>
        <source>Parameters</source>
        <translation>参数量</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>大小</translation>
    </message>
</context>
<context>
    <name>lowbit::format</name>
    <message>
        <source>%1 B</source>
        <translation>%1 B</translation>
    </message>
    <message>
        <source>%1 M</source>
        <translation>%1 M</translation>
    </message>
    <message>
        <source>%1 K</source>
        <translation>%1 K</translation>
    </message>
    <message>
        <source>%1 bytes</source>
        <translation>%1 字节</translation>
    </message>
</context>
<context>
    <name>main</name>
    <message>
        <source>A desktop studio for compressing language models.</source>
        <translation>用于压缩语言模型的桌面工作室。</translation>
    </message>
    <message>
        <source>Save a screenshot of every page into DIR, then exit.</source>
        <translation>将每个页面的截图保存到 DIR，然后退出。</translation>
    </message>
    <message>
        <source>The model to open (default for --tour: the demo model).</source>
        <translation>要打开的模型（--tour 的默认值：演示模型）。</translation>
    </message>
    <message>
        <source>A checkpoint folder, .safetensors or .gguf file.</source>
        <translation>检查点文件夹、.safetensors 或 .gguf 文件。</translation>
    </message>
</context>
</TS>
