# scripts/bench-faaslets' plot: p50 time to the function's entry, log scale.
# Called with -e "outDir='...'"; reads outDir/bars.dat ("label value_us").
set terminal png size 900,480
set output outDir.'/bench-faaslets.png'
set title 'Time to the entry of the function, p50 (µs, log scale)'
set style data histogram
set style fill solid 0.8 border -1
set boxwidth 0.7
set logscale y
set yrange [1:*]
set grid ytics
set key off
set xtics rotate by -20
plot outDir.'/bars.dat' using 2:xtic(1) lc rgb '#3070b0', \
     '' using 0:2:(sprintf('%.0f', $2)) with labels offset 0,1
