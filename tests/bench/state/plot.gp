# scripts/bench-state's plot: MB/s of each path beside its raw floor.
# Called with -e "outDir='...'"; reads outDir/bars.dat ("label value").
set terminal png size 900,480
set output outDir.'/bench-state.png'
set title 'Global state tier vs raw pipelined hiredis (MB/s, higher is better)'
set style data histogram
set style fill solid 0.8 border -1
set boxwidth 0.7
set yrange [0:*]
set grid ytics
set key off
set xtics rotate by -20
plot outDir.'/bars.dat' using 2:xtic(1) lc rgb '#3070b0', \
     '' using 0:2:(sprintf('%.0f', $2)) with labels offset 0,1
